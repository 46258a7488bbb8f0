// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// Liveness: a Ping every heartbeatInterval while open, a reconnect when no frame at all arrives
// within heartbeatTimeout of one, and a dial that never opens abandoned after connectTimeout.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { harness, open } from './harness.js';

const pings = (socket) => socket.sent.filter((frame) => frame.type === 'Ping');

test('a Ping goes out every heartbeatInterval while the connection is open', (t) => {
    const h = harness(t, { heartbeatInterval: 1000, heartbeatTimeout: 500 });
    const socket = open(h);
    h.clock.tick(999);
    assert.equal(pings(socket).length, 0);
    for (let answered = 1; answered <= 3; answered += 1) {
        h.clock.tick(answered === 1 ? 1 : 1000);
        assert.equal(pings(socket).length, answered);
        socket.deliver({ type: 'Pong', data: {} });
    }
    assert.deepEqual(pings(socket)[0], { type: 'Ping', data: {} });
    assert.equal(h.client.state, 'open');
});

test('no frame within heartbeatTimeout of a Ping: the socket is closed and the client reconnects', (t) => {
    const h = harness(t, { heartbeatInterval: 1000, heartbeatTimeout: 500 });
    const socket = open(h);
    h.clock.tick(1000 + 499);
    assert.equal(h.client.state, 'open');
    h.clock.tick(1);
    assert.deepEqual(socket.closedWith, { code: 4000, reason: 'heartbeat timeout' });
    assert.equal(h.client.state, 'reconnecting');
    const { code, reason } = h.retries[0];
    assert.deepEqual({ code, reason }, { code: 4000, reason: 'heartbeat timeout' });
    h.clock.tick(h.retries[0].delay);
    assert.equal(h.sockets.length, 2);
});

test('any frame at all counts as an answer, not only the Pong', (t) => {
    const h = harness(t, { heartbeatInterval: 1000, heartbeatTimeout: 500 });
    const socket = open(h);
    h.clock.tick(1000);
    for (let round = 0; round < 5; round += 1) {
        h.clock.tick(499);
        socket.deliver({ type: 'UserOnline', data: { user_id: 'u' } });
        h.clock.tick(501); // the next Ping
    }
    assert.equal(h.client.state, 'open');
    assert.equal(pings(socket).length, 6);
    h.clock.tick(500); // this one stays unanswered
    assert.equal(h.client.state, 'reconnecting');
});

test('a timeout longer than the interval runs from the first unanswered Ping', (t) => {
    const h = harness(t, { heartbeatInterval: 1000, heartbeatTimeout: 2500 });
    const socket = open(h);
    h.clock.tick(3499);
    assert.equal(pings(socket).length, 3);
    assert.equal(h.client.state, 'open');
    h.clock.tick(1);
    assert.equal(h.client.state, 'reconnecting');
});

test('heartbeatInterval 0 sends no Ping and never times out', (t) => {
    const h = harness(t, { heartbeatInterval: 0 });
    const socket = open(h);
    h.clock.tick(10 * 60 * 1000);
    assert.equal(socket.sent.length, 0);
    assert.equal(h.client.state, 'open');
});

test('a dial that does not open within connectTimeout is abandoned and retried', (t) => {
    const h = harness(t, { connectTimeout: 3000 });
    h.client.connect();
    const stuck = h.socket;
    h.clock.tick(2999);
    assert.equal(h.client.state, 'connecting');
    h.clock.tick(1);
    assert.deepEqual(stuck.closedWith, { code: 4000, reason: 'connect timeout' });
    assert.equal(h.client.state, 'reconnecting');
    h.clock.tick(h.retries[0].delay);
    assert.equal(h.sockets.length, 2);
    stuck.accept(); // far too late: ignored
    assert.equal(h.client.state, 'connecting');
});
