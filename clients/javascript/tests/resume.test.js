// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// Resume: the position of the last durable event handed to the app, `resume=<epoch>:<offset>`
// on every reconnect, no event handed over twice, and the Session's position adopted.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EPOCH, OTHER_EPOCH, harness, open } from './harness.js';

function session(recovery, offset, epoch = EPOCH, replayed = 0) {
    return { type: 'Session', data: { epoch, offset, recovery, replayed } };
}

function message(offset, text = `message ${offset}`) {
    return { type: 'MessageSent', offset, data: { text } };
}

/** Records the offsets of the MessageSent events handed to the app. */
function received(h) {
    const offsets = [];
    h.client.on('MessageSent', (data, event) => offsets.push(event.offset));
    return offsets;
}

function reconnect(h) {
    h.socket.drop();
    h.clock.tick(h.retries.at(-1).delay);
    return h.socket;
}

test('a new client takes the Session\'s position and resumes from its last event on every reconnect', (t) => {
    const h = harness(t);
    const offsets = received(h);
    const first = open(h);
    assert.equal(first.url.searchParams.has('resume'), false);
    assert.equal(h.client.position, null);
    first.deliver(session('none', 5));
    assert.deepEqual(h.client.position, { epoch: EPOCH, offset: 5 });
    first.deliver(message(6));
    first.deliver(message(7));
    assert.deepEqual(h.client.position, { epoch: EPOCH, offset: 7 });
    assert.equal(reconnect(h).url.searchParams.get('resume'), `${EPOCH}:7`);
    assert.match(h.socket.url.search, new RegExp(`resume=${EPOCH}:7$`), 'the colon is written as it is');
    h.socket.accept();
    h.socket.deliver(session('complete', 7, EPOCH, 1));
    h.socket.deliver(message(8));
    assert.equal(reconnect(h).url.searchParams.get('resume'), `${EPOCH}:8`);
    assert.deepEqual(offsets, [6, 7, 8]);
});

test('a position given in the options is resumed from on the first connect', (t) => {
    const h = harness(t, { position: { epoch: EPOCH, offset: 41 }, token: 'jwt' });
    h.client.connect();
    assert.equal(h.socket.url.search, `?token=jwt&resume=${EPOCH}:41`);
    assert.deepEqual(h.client.position, { epoch: EPOCH, offset: 41 });
});

test('an event at or below the position is dropped, so the app never sees one twice', (t) => {
    const h = harness(t, { position: { epoch: EPOCH, offset: 7 } });
    const offsets = received(h);
    const socket = open(h);
    socket.deliver(session('complete', 7, EPOCH, 2));
    for (const offset of [6, 7, 8, 8, 9, 9, 5, 10]) socket.deliver(message(offset));
    assert.deepEqual(offsets, [8, 9, 10]);
    assert.deepEqual(h.client.position, { epoch: EPOCH, offset: 10 });
    assert.deepEqual(h.errors, []);
});

test('recovery "unavailable" is told to the app, and the client adopts the new epoch and offset', (t) => {
    const h = harness(t, { position: { epoch: EPOCH, offset: 70 } });
    const offsets = received(h);
    const sessions = [];
    h.client.on('session', (data) => sessions.push({ ...data, positionSeen: h.client.position }));
    const socket = open(h);
    socket.deliver(session('unavailable', 3, OTHER_EPOCH));
    assert.deepEqual(sessions, [{
        epoch: OTHER_EPOCH, offset: 3, recovery: 'unavailable', replayed: 0,
        positionSeen: { epoch: OTHER_EPOCH, offset: 3 },
    }]);
    socket.deliver(message(4)); // below the old position, but of the new epoch
    assert.deepEqual(offsets, [4]);
    assert.equal(reconnect(h).url.searchParams.get('resume'), `${OTHER_EPOCH}:4`);
});

test('events without an offset (typing, presence) are always handed over and leave the position alone', (t) => {
    const h = harness(t);
    const typing = [];
    h.client.on('TypingStarted', (data, event) => typing.push([data, event]));
    const socket = open(h);
    socket.deliver(session('none', 9));
    socket.deliver({ type: 'TypingStarted', data: { user_id: 'u' } });
    socket.deliver({ type: 'TypingStarted', data: { user_id: 'u' } });
    assert.deepEqual(typing, [
        [{ user_id: 'u' }, { type: 'TypingStarted', data: { user_id: 'u' } }],
        [{ user_id: 'u' }, { type: 'TypingStarted', data: { user_id: 'u' } }],
    ]);
    assert.deepEqual(h.client.position, { epoch: EPOCH, offset: 9 });
});

test('without a Session frame (a server without history) no resume parameter is ever sent', (t) => {
    const h = harness(t);
    const offsets = received(h);
    const socket = open(h);
    socket.deliver({ type: 'MessageSent', data: {} });
    socket.deliver(message(3)); // an offset with no epoch to go with it: handed over, no position
    assert.deepEqual(offsets, [undefined, 3]);
    assert.equal(h.client.position, null);
    assert.equal(reconnect(h).url.searchParams.has('resume'), false);
});

test('a malformed frame or Session is reported, and the connection goes on', (t) => {
    const h = harness(t);
    const offsets = received(h);
    const socket = open(h);
    const malformed = [
        ['not json', /^a frame is not JSON/],
        ['[1,2]', /^a frame has no event type/],
        ['{"data":{}}', /^a frame has no event type/],
        ['{"type":"","data":{}}', /^a frame has no event type/],
        ['{"type":"state","data":{}}', /^a frame uses the client's own event name 'state'/],
        [{ type: 'MessageSent', offset: -1, data: {} }, /^a frame has a malformed offset/],
        [{ type: 'MessageSent', offset: '3', data: {} }, /^a frame has a malformed offset/],
        [{ type: 'MessageSent', offset: 2 ** 60, data: {} }, /^a frame has a malformed offset/],
        [new Uint8Array([1, 2, 3]), /^a binary frame arrived/],
        [{ type: 'Session', data: { epoch: 'ABC', offset: 1, recovery: 'none', replayed: 0 } }, /^malformed Session/],
        [{ type: 'Session', data: { epoch: EPOCH, offset: 1, recovery: 'maybe', replayed: 0 } }, /^malformed Session/],
        [{ type: 'Session' }, /^malformed Session/],
    ];
    for (const [frame] of malformed) socket.deliver(frame);
    assert.equal(h.errors.length, malformed.length, h.errors.map((error) => error.message).join('\n'));
    malformed.forEach(([, expected], index) => assert.match(h.errors[index].message, expected));
    assert.equal(h.client.position, null);
    socket.deliver(message(1));
    assert.deepEqual(offsets, [1]);
    assert.equal(h.client.state, 'open');
    assert.equal(h.sockets.length, 1);
});

test('a handler that throws is reported; the other handlers still run and the event is not handed over again', (t) => {
    const h = harness(t, { position: { epoch: EPOCH, offset: 0 } });
    h.client.on('MessageSent', () => { throw new Error('app bug'); });
    const offsets = received(h);
    const socket = open(h);
    socket.deliver(message(1));
    socket.deliver(message(1));
    assert.deepEqual(offsets, [1]);
    assert.equal(h.errors.length, 1);
    assert.equal(h.errors[0].message, "a 'MessageSent' handler threw: app bug");
    assert.equal(h.errors[0].cause.message, 'app bug');
    assert.deepEqual(h.client.position, { epoch: EPOCH, offset: 1 });
});
