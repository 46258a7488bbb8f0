// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// The API's edges: send() true or false, on/off, the 'state' event, and clear errors for bad
// options.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SwitchboardClient } from '../switchboard-client.js';
import { fakeWebSocket } from './fake-websocket.js';
import { EPOCH, URL_BASE, harness, open } from './harness.js';

test('send() is true when handed to an open socket and false otherwise', (t) => {
    const h = harness(t);
    assert.equal(h.client.send('SendMessage', { to: [] }), false, 'before connect()');
    h.client.connect();
    assert.equal(h.client.send('SendMessage', { to: [] }), false, 'while connecting');
    const socket = open(h);
    assert.equal(h.client.send('SendMessage', { to: ['u'], text: 'hi' }), true);
    assert.equal(h.client.send('MarkRead'), true);
    assert.deepEqual(socket.sent, [
        { type: 'SendMessage', data: { to: ['u'], text: 'hi' } },
        { type: 'MarkRead', data: {} },
    ]);
    socket.readyState = 2; // CLOSING: the close event is still on its way
    assert.equal(h.client.send('SendMessage', {}), false, 'while the socket closes');
    socket.drop();
    assert.equal(h.client.send('SendMessage', {}), false, 'while reconnecting');
    h.client.close();
    assert.equal(h.client.send('SendMessage', {}), false, 'after close()');
    assert.equal(socket.sent.length, 2);
    assert.deepEqual(h.errors, [], 'the socket was never asked to send when not open');
    assert.throws(() => h.client.send('', {}), TypeError);
});

test('send() on a socket that throws is false and reported', (t) => {
    const h = harness(t);
    const socket = open(h);
    socket.send = () => { throw new Error('buffer full'); };
    assert.equal(h.client.send('SendMessage', {}), false);
    assert.match(h.errors[0].message, /buffer full/);
});

test('off() removes a handler, and so does the function on() returns', (t) => {
    const h = harness(t);
    const calls = [];
    const first = (data) => calls.push(['first', data.n]);
    const second = (data) => calls.push(['second', data.n]);
    h.client.on('Note', first);
    const removeSecond = h.client.on('Note', second);
    const socket = open(h);
    socket.deliver({ type: 'Note', data: { n: 1 } });
    h.client.off('Note', first);
    socket.deliver({ type: 'Note', data: { n: 2 } });
    removeSecond();
    socket.deliver({ type: 'Note', data: { n: 3 } });
    h.client.off('Unheard', first); // removing what was never added is harmless
    assert.deepEqual(calls, [['first', 1], ['second', 1], ['second', 2]]);
});

test('the state event tells every transition, and a handler may close the client from it', (t) => {
    const h = harness(t);
    open(h);
    h.socket.drop(1011, 'server error');
    h.client.on('state', (state) => state === 'connecting' && h.client.close());
    h.clock.tick(h.retries[0].delay);
    assert.deepEqual(h.states.map(({ state, attempt }) => [state, attempt]), [
        ['connecting', 0], ['open', 0], ['reconnecting', 1], ['connecting', 1], ['closed', 1],
    ]);
    assert.equal(h.sockets.length, 1, 'closed from the handler: no socket dialled');
    assert.equal(h.clock.pending, 0);
});

test('an error handler that throws does not break the client', (t) => {
    const h = harness(t);
    const printed = t.mock.method(console, 'error', () => {});
    h.client.on('error', () => { throw new Error('error handler bug'); });
    const socket = open(h);
    socket.deliver('garbage');
    socket.deliver({ type: 'Note', data: {} });
    assert.equal(h.errors.length, 1);
    assert.equal(printed.mock.callCount(), 1);
    assert.equal(h.client.state, 'open');
});

test('an http(s) URL is taken for ws(s)', () => {
    const WebSocket = fakeWebSocket();
    const client = new SwitchboardClient('https://example.test/ws', { WebSocket });
    client.connect();
    client.close();
    assert.equal(WebSocket.sockets[0].url.href, 'wss://example.test/ws');
});

test('bad arguments are refused at once with a clear error', () => {
    const WebSocket = fakeWebSocket();
    const refusals = [
        [['not a url', { WebSocket }], /not a URL/],
        [['ftp://host/ws', { WebSocket }], /expected a ws: or wss: URL/],
        [[URL_BASE, { WebSocket, heartbeatIntervall: 1 }], /unknown option 'heartbeatIntervall'/],
        [[URL_BASE, { WebSocket, minReconnectDelay: 0 }], /minReconnectDelay must be an integer from 1/],
        [[URL_BASE, { WebSocket, maxReconnectDelay: 2 ** 31 }], /maxReconnectDelay must be an integer/],
        [[URL_BASE, { WebSocket, minReconnectDelay: 5000, maxReconnectDelay: 1000 }], /maxReconnectDelay is below/],
        [[URL_BASE, { WebSocket, heartbeatTimeout: 1.5 }], /heartbeatTimeout must be an integer/],
        [[URL_BASE, { WebSocket, token: 42 }], /token must be a string or a function/],
        [[URL_BASE, { WebSocket: {} }], /WebSocket must be a constructor/],
        [[URL_BASE, { WebSocket, position: { epoch: EPOCH } }], /position must be/],
        [[URL_BASE, { WebSocket, position: { epoch: 'abc', offset: 1 } }], /position must be/],
    ];
    for (const [args, expected] of refusals) assert.throws(() => new SwitchboardClient(...args), expected);
});

test('globalThis.WebSocket serves when none is passed', (t) => {
    const WebSocket = fakeWebSocket();
    const own = Object.getOwnPropertyDescriptor(globalThis, 'WebSocket');
    globalThis.WebSocket = WebSocket;
    t.after(() => (own ? Object.defineProperty(globalThis, 'WebSocket', own) : delete globalThis.WebSocket));
    const client = new SwitchboardClient(URL_BASE);
    client.connect();
    client.close();
    assert.equal(WebSocket.sockets.length, 1);
});

test('without a WebSocket anywhere the constructor says what to pass', (t) => {
    const own = Object.getOwnPropertyDescriptor(globalThis, 'WebSocket'); // Node 22 has one
    if (own) {
        Object.defineProperty(globalThis, 'WebSocket', { value: undefined, configurable: true, writable: true });
        t.after(() => Object.defineProperty(globalThis, 'WebSocket', own));
    }
    assert.equal(globalThis.WebSocket, undefined);
    assert.throws(() => new SwitchboardClient(URL_BASE), /no WebSocket here; pass one in options.WebSocket/);
});
