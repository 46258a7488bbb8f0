// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// Types of switchboard-client.js, written by hand. README.md beside this file is the manual.

/**
 * Where the client stands: `connecting` (a dial, first or later), `open`, `reconnecting` (waiting for the next dial),
 * `closed`.
 */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** A position in the user's event stream: the epoch (32 lower-case hex digits) and the offset of the last event. */
export interface StreamPosition {
    epoch: string;
    offset: number;
}

/** The data of the server's first frame when it keeps history. */
export interface Session extends StreamPosition {
    /** `none`: no resume asked; `complete`: the missed events follow; `unavailable`: they cannot be had, reload. */
    recovery: 'none' | 'complete' | 'unavailable';
    /** How many missed events follow (with `complete`). */
    replayed: number;
}

/** The second argument of a 'state' handler. */
export interface StateDetail {
    /** Dials since the last connection that stayed open `stableAfter` (or since connect()). */
    attempt: number;
    /** With 'reconnecting': the wait before the next dial, in ms. */
    delay?: number;
    /** With 'reconnecting': when the next dial is due (a Date.now() value). */
    nextRetryAt?: number;
    /** With 'reconnecting': the close code of the connection that ended (4000: the client's timeout). */
    code?: number;
    /** With 'reconnecting': the close reason, or what failed ('token function failed', 'heartbeat timeout', ...). */
    reason?: string;
}

/** A frame from the server: `{"type", "data", "offset"?}`; `offset` is there on durable events only. */
export interface Envelope<Data = unknown> {
    type: string;
    data: Data;
    offset?: number;
    [field: string]: unknown;
}

/**
 * A WebSocket constructor: the browser's, Node 22's, or npm ws's. The client calls `new WebSocket(url)` and uses
 * `readyState`, `send(text)`, `close(code, reason)` and the `onopen`, `onmessage`, `onclose`, `onerror` handlers.
 */
export type WebSocketConstructor = new (url: string) => object;

export interface SwitchboardClientOptions {
    /** Sent in the `token` query parameter. A function is called before every dial. */
    token?: string | (() => string | Promise<string>);
    /** The least wait before a reconnect, ms (500). */
    minReconnectDelay?: number;
    /** The longest wait before a reconnect, ms (20,000). */
    maxReconnectDelay?: number;
    /** How long a connection must stay open to reset the backoff, ms (5,000). */
    stableAfter?: number;
    /** How long a dial may take to open before it is abandoned, ms (10,000; 0: no limit). */
    connectTimeout?: number;
    /** How often a Ping goes out while open, ms (25,000; 0: no heartbeat). */
    heartbeatInterval?: number;
    /** How long after an unanswered Ping the connection is given up, ms (10,000). */
    heartbeatTimeout?: number;
    /** The WebSocket constructor; globalThis.WebSocket by default. */
    WebSocket?: WebSocketConstructor;
    /** Where to resume from on the first connect (a position saved earlier). */
    position?: StreamPosition;
}

export class SwitchboardClient {
    /** @param url ws:, wss:, or in a page http:, https: or a path (taken for ws: or wss:). */
    constructor(url: string | URL, options?: SwitchboardClientOptions);

    readonly state: ConnectionState;
    /** The position of the last durable event handed to the app (a copy), or null before the first Session. */
    readonly position: StreamPosition | null;

    /** Starts connecting; does nothing unless closed. */
    connect(): void;
    /** Closes the connection and stops every timer; nothing reconnects until connect(). */
    close(): void;
    /** Sends `{"type","data"}`: true when handed to an open socket, false otherwise (nothing is queued). */
    send(type: string, data?: unknown): boolean;

    on(type: 'state', fn: (state: ConnectionState, detail: StateDetail) => void): () => void;
    on(type: 'session', fn: (session: Session) => void): () => void;
    on(type: 'error', fn: (error: Error) => void): () => void;
    on<Data = any>(type: string, fn: (data: Data, event: Envelope<Data>) => void): () => void;

    off(type: 'state', fn: (state: ConnectionState, detail: StateDetail) => void): void;
    off(type: 'session', fn: (session: Session) => void): void;
    off(type: 'error', fn: (error: Error) => void): void;
    off<Data = any>(type: string, fn: (data: Data, event: Envelope<Data>) => void): void;
}
