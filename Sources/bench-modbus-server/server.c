// A minimal libmodbus server for `make bench`, so that the server is not what limits the
// request rate: one thread, one connection at a time, modbus_receive + modbus_reply on a
// mapping of 1000 holding and input registers (register i holds i) and 1000 coils and
// discrete inputs.
//
//   bench-modbus-server [PORT]
//
// Listens on 127.0.0.1:PORT (0, the default, picks a free port) and prints
// "listening on 127.0.0.1:PORT" on stderr. When a connection ends it prints
// "served N requests from T0 to T1" on stderr (T0: the first request received, T1: the last
// reply sent, in seconds of CLOCK_MONOTONIC), so any client, ours or a peer's, one connection
// or one per poll, is measured the same way. Runs until killed.
#include <arpa/inet.h>
#include <errno.h>
#include <modbus.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    const char *port = argc > 1 ? argv[1] : "0";
    modbus_t *ctx = modbus_new_tcp_pi("127.0.0.1", port);
    modbus_mapping_t *mapping = modbus_mapping_new(1000, 1000, 1000, 1000);
    if (ctx == NULL || mapping == NULL) {
        fprintf(stderr, "bench-modbus-server: cannot allocate\n");
        return 1;
    }
    for (int i = 0; i < 1000; i++) {
        mapping->tab_registers[i] = (uint16_t)i;
        mapping->tab_input_registers[i] = (uint16_t)i;
        mapping->tab_bits[i] = (uint8_t)(i & 1);
        mapping->tab_input_bits[i] = (uint8_t)((i >> 1) & 1);
    }
    int listener = modbus_tcp_pi_listen(ctx, 1);
    if (listener < 0) {
        fprintf(stderr, "bench-modbus-server: listen: %s\n", modbus_strerror(errno));
        return 1;
    }
    struct sockaddr_in bound;
    socklen_t length = sizeof bound;
    getsockname(listener, (struct sockaddr *)&bound, &length);
    fprintf(stderr, "listening on 127.0.0.1:%d\n", ntohs(bound.sin_port));
    uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
    for (;;) {
        if (modbus_tcp_pi_accept(ctx, &listener) < 0) continue;
        long served = 0;
        double first = 0, last = 0;
        for (;;) {
            int received = modbus_receive(ctx, query);
            if (received < 0) break;
            if (received == 0) continue;
            if (served == 0) first = now_seconds();
            if (modbus_reply(ctx, query, received, mapping) < 0) break;
            last = now_seconds();
            served++;
        }
        if (served > 0) fprintf(stderr, "served %ld requests from %.6f to %.6f\n", served, first, last);
        modbus_close(ctx);
    }
}
