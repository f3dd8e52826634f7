#ifndef CICLO_CLIBPQ_SHIM_H
#define CICLO_CLIBPQ_SHIM_H
// libpq's client API. Only the Postgres module imports this shim.
#include <libpq-fe.h>
#endif
