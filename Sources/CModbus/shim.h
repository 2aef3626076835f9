// The libmodbus surface fieldpoll uses, plus the values Swift's importer misses.
//
// libmodbus defines its error codes as macros built from other macros
// (`#define EMBXILADD (MODBUS_ENOBASE + MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS)`),
// which the Swift importer does not bring across. They are re-exported here as
// `static inline` functions so Swift code can compare errno values with them.
#ifndef FIELDPOLL_CMODBUS_SHIM_H
#define FIELDPOLL_CMODBUS_SHIM_H

#include <modbus.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static inline int cmodbus_enobase(void) { return MODBUS_ENOBASE; }
static inline int cmodbus_embbaddata(void) { return EMBBADDATA; }
static inline int cmodbus_embbadexc(void) { return EMBBADEXC; }
static inline int cmodbus_embunkexc(void) { return EMBUNKEXC; }
static inline int cmodbus_embmdata(void) { return EMBMDATA; }
static inline int cmodbus_embbadslave(void) { return EMBBADSLAVE; }
static inline int cmodbus_embbadcrc(void) { return EMBBADCRC; }
static inline int cmodbus_tcp_max_adu_length(void) { return MODBUS_TCP_MAX_ADU_LENGTH; }

/// The exception code carried by a libmodbus errno, or 0 when errno is not an exception.
static inline int cmodbus_exception_from_errno(int error) {
    if (error > MODBUS_ENOBASE && error < MODBUS_ENOBASE + MODBUS_EXCEPTION_MAX) {
        return error - MODBUS_ENOBASE;
    }
    return 0;
}

#endif
