// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// The token: a string or a function called before every dial, sent percent-encoded in the
// `token` query parameter; a function that throws or rejects is reported and retried.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { harness, open, settle } from './harness.js';

const AWKWARD = 'a+b/c=d&e f%g'; // every character that must be encoded in a query

test('a string token travels percent-encoded in the token parameter', (t) => {
    const h = harness(t, { token: AWKWARD });
    h.client.connect();
    assert.match(h.socket.url.search, /^\?token=a%2Bb%2Fc%3Dd%26e%20f%25g$/);
    assert.equal(h.socket.url.searchParams.get('token'), AWKWARD);
});

test('the token joins a query the URL already has; a fragment is dropped', (t) => {
    const h = harness(t, { token: 'jwt' }, 'ws://127.0.0.1:8080/ws?room=7#ignored');
    h.client.connect();
    assert.equal(h.socket.url.href, 'ws://127.0.0.1:8080/ws?room=7&token=jwt');
});

test('a token function is called before every dial, and each dial carries its latest token', (t) => {
    let calls = 0;
    const h = harness(t, { token: () => `token-${++calls}` });
    open(h);
    h.socket.drop();
    h.clock.tick(h.retries.at(-1).delay);
    h.socket.accept();
    h.socket.drop();
    h.clock.tick(h.retries.at(-1).delay);
    assert.equal(calls, 3);
    const tokens = h.sockets.map((socket) => socket.url.searchParams.get('token'));
    assert.deepEqual(tokens, ['token-1', 'token-2', 'token-3']);
});

test('a token function may return a promise; the dial waits for it', async (t) => {
    let resolve;
    const h = harness(t, { token: () => new Promise((done) => { resolve = done; }) });
    h.client.connect();
    assert.equal(h.client.state, 'connecting');
    assert.equal(h.sockets.length, 0);
    resolve('later');
    await settle();
    assert.equal(h.socket.url.searchParams.get('token'), 'later');
});

test('a token function that rejects or throws is reported, and the next dial asks it again', async (t) => {
    const outcomes = [
        () => Promise.reject(new Error('refresh endpoint down')),
        () => { throw new Error('no session'); },
        () => 42,
        () => Promise.resolve('good'),
    ];
    let calls = 0;
    const h = harness(t, { token: () => outcomes[calls++]() });
    h.client.connect();
    for (let failure = 0; failure < 3; failure += 1) {
        await settle();
        assert.equal(h.client.state, 'reconnecting');
        assert.equal(h.retries.at(-1).reason, 'token function failed');
        h.clock.tick(h.retries.at(-1).delay);
    }
    await settle();
    assert.equal(calls, 4);
    assert.equal(h.sockets.length, 1);
    assert.equal(h.socket.url.searchParams.get('token'), 'good');
    assert.deepEqual(h.errors.map((error) => error.message), [
        'the token function failed: refresh endpoint down',
        'the token function failed: no session',
        'the token function must give a string, not number',
    ]);
    assert.equal(h.errors[0].cause.message, 'refresh endpoint down');
});

test('a token that arrives after close() opens nothing', async (t) => {
    let resolve;
    const h = harness(t, { token: () => new Promise((done) => { resolve = done; }) });
    h.client.connect();
    h.client.close();
    resolve('too late');
    await settle();
    assert.equal(h.sockets.length, 0);
    assert.equal(h.client.state, 'closed');
});
