/// Python for the helper servers `HelperServer` starts, interpolated at the top level of their scripts (which
/// import os, sys and threading): the test runner holds the script's stdin open, and when it goes away (the test
/// process ended, or was killed), so does the script.
public let pythonExitWithParent = """
    def exit_with_parent():
        sys.stdin.read()
        os._exit(0)
    threading.Thread(target=exit_with_parent, daemon=True).start()
    """
