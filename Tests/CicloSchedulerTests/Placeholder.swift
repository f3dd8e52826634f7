// Tests for CicloScheduler.
