// The physical limit for `make bench` row 4: libmodbus's own client reading holding registers
// back to back, as a C program that does nothing else.
//
//   bench-read-loop HOST PORT COUNT [REGISTERS]
//
// Connects once (unit 1, response timeout 1 s, byte timeout off, as fieldpoll does), calls
// modbus_read_registers(ctx, 0, REGISTERS, ...) COUNT times, and prints one line on stdout:
// "requests COUNT seconds S" (S: the loop alone, monotonic clock). Exit 1 on any error.
#include <errno.h>
#include <modbus.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: bench-read-loop HOST PORT COUNT [REGISTERS]\n");
        return 2;
    }
    long count = strtol(argv[3], NULL, 10);
    int registers = argc > 4 ? atoi(argv[4]) : 10;
    if (count < 1 || registers < 1 || registers > MODBUS_MAX_READ_REGISTERS) {
        fprintf(stderr, "bench-read-loop: COUNT must be >= 1 and REGISTERS 1..125\n");
        return 2;
    }
    modbus_t *ctx = modbus_new_tcp_pi(argv[1], argv[2]);
    if (ctx == NULL) {
        fprintf(stderr, "bench-read-loop: cannot create a context\n");
        return 1;
    }
    modbus_set_slave(ctx, 1);  // the unit fieldpoll's map polls; libmodbus's TCP default is 255
    modbus_set_response_timeout(ctx, 1, 0);
    modbus_set_byte_timeout(ctx, 0, 0);
    if (modbus_connect(ctx) == -1) {
        fprintf(stderr, "bench-read-loop: connect: %s\n", modbus_strerror(errno));
        modbus_free(ctx);
        return 1;
    }
    uint16_t values[MODBUS_MAX_READ_REGISTERS];
    double started = now_seconds();
    for (long i = 0; i < count; i++) {
        if (modbus_read_registers(ctx, 0, registers, values) != registers) {
            fprintf(stderr, "bench-read-loop: read %ld: %s\n", i, modbus_strerror(errno));
            modbus_close(ctx);
            modbus_free(ctx);
            return 1;
        }
    }
    double seconds = now_seconds() - started;
    printf("requests %ld seconds %.6f\n", count, seconds);
    modbus_close(ctx);
    modbus_free(ctx);
    return 0;
}
