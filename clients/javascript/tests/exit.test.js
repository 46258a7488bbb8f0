// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// On the real clock: close() leaves no timer behind, from any state, so a process whose
// client is closed can exit.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SwitchboardClient } from '../switchboard-client.js';
import { fakeWebSocket } from './fake-websocket.js';
import { URL_BASE } from './harness.js';

const activeTimers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;

test('close() clears every timer it started, whatever the state', () => {
    const WebSocket = fakeWebSocket();
    const before = activeTimers();
    const reach = {
        connecting: (client) => client.connect(),
        open: (client) => {
            client.connect();
            WebSocket.sockets.at(-1).accept();
        },
        reconnecting: (client) => {
            client.connect();
            WebSocket.sockets.at(-1).accept();
            WebSocket.sockets.at(-1).drop();
        },
    };
    for (const [state, go] of Object.entries(reach)) {
        const client = new SwitchboardClient(URL_BASE, { WebSocket });
        go(client);
        assert.equal(client.state, state);
        assert.ok(activeTimers() > before, `no timer running while ${state}: the check would prove nothing`);
        client.close();
        assert.equal(activeTimers(), before, `close() while ${state} left a timer`);
    }
});
