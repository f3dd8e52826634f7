// Tests for CicloImport.
