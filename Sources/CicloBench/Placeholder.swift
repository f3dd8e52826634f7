// The steady-load benchmark arrives here.
