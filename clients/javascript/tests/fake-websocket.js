// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// A fake WebSocket for the client's tests, with the browser's shape (readyState, send, close,
// on* handlers) and a server side the test drives: accept(), deliver(frame), drop(code).

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

/** A WebSocket constructor of its own; `.sockets` lists every socket it made, oldest first. */
export function fakeWebSocket() {
    const sockets = [];
    class FakeWebSocket {
        static sockets = sockets;

        constructor(url) {
            this.url = new URL(url);
            this.readyState = CONNECTING;
            this.sent = [];
            this.closedWith = null;
            this.onopen = this.onmessage = this.onclose = this.onerror = null;
            sockets.push(this);
        }

        send(text) {
            if (this.readyState !== OPEN) throw new Error('InvalidStateError: not open');
            this.sent.push(JSON.parse(text));
        }

        /** Like a browser's: the close event comes later (the client must ignore it by then). */
        close(code, reason) {
            this.closedWith = { code, reason };
            this.readyState = CLOSED;
            queueMicrotask(() => this.onclose?.({ code, reason }));
        }

        // --- the server's side ---

        accept() {
            this.readyState = OPEN;
            this.onopen?.({});
        }

        /** Delivers a frame: a plain object as its JSON, a string or binary data as it is. */
        deliver(frame) {
            this.onmessage?.({ data: frame?.constructor === Object ? JSON.stringify(frame) : frame });
        }

        drop(code = 1006, reason = '') {
            this.readyState = CLOSED;
            this.onerror?.({});
            this.onclose?.({ code, reason });
        }
    }
    return FakeWebSocket;
}
