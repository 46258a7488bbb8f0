// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// One client on a fake clock and a fake WebSocket per test, with what it reported recorded.

import { SwitchboardClient } from '../switchboard-client.js';
import { FakeClock } from './fake-clock.js';
import { fakeWebSocket } from './fake-websocket.js';

export const URL_BASE = 'ws://127.0.0.1:8080/ws';
export const EPOCH = '0123456789abcdef0123456789abcdef';
export const OTHER_EPOCH = 'fedcba9876543210fedcba9876543210';

/** Call from a test: `const h = harness(t, options)`; the client is closed and the clock removed after it. */
export function harness(t, options = {}, url = URL_BASE) {
    const clock = new FakeClock().install();
    const WebSocket = fakeWebSocket();
    const client = new SwitchboardClient(url, { WebSocket, ...options });
    const errors = [];
    const states = [];
    client.on('error', (error) => errors.push(error));
    client.on('state', (state, detail) => states.push({ state, ...detail }));
    t.after(() => {
        client.close();
        clock.uninstall();
    });
    return {
        clock,
        client,
        errors,
        states,
        sockets: WebSocket.sockets,
        /** The socket the client made last. */
        get socket() {
            return WebSocket.sockets.at(-1);
        },
        /** The state details of each scheduled retry, in order. */
        get retries() {
            return states.filter((entry) => entry.state === 'reconnecting');
        },
    };
}

/** Connects and lets the fake server accept; returns the socket. */
export function open(h) {
    if (h.client.state === 'closed') h.client.connect();
    h.socket.accept();
    return h.socket;
}

/** Lets pending promise callbacks run (a token function's promise, for one). */
export function settle() {
    return new Promise((resolve) => setImmediate(resolve));
}
