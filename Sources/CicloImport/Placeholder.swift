// The import module: see the files beside this one.
