/**
 * Saying goodbye on a WebSocket podkit does not own.
 *
 * podkit sees the upgraded TCP socket, never the app's `ws` (or socket.io, or @fastify/websocket)
 * objects, and no library can send a close frame on a socket it does not own: `ws` only closes
 * sockets it wrapped itself, and since ws@8 `wss.close()` leaves its clients open. So podkit writes
 * the close frame itself: RFC 6455 §5.5.1, a server frame is never masked, so it is four bytes,
 * FIN + opcode 0x8, payload length 2, and the status code in network order. Writes to a socket
 * land whole and in order, and WebSocket libraries write a frame in one write, so the frame falls
 * between two of the app's frames, never inside one.
 *
 * 1001 Going Away, not 1012 Service Restart: 1001 is the code RFC 6455 gives to "a server going
 * down", browsers and `ws` treat it as a normal close, and reconnecting clients commonly
 * reconnect on it; 1012 (IANA registry, not the RFC) is unknown to older clients.
 *
 * The client answers with its own close frame; the app's library reads it, answers (its close
 * frame is harmless to a client that already closed) and ends the socket. One that does not is
 * ended by podkit after `closeTimeoutMs`.
 */
import type { Socket } from 'node:net';

export const GOING_AWAY = 1001;

const CLOSE_FRAME = Buffer.from([0x88, 0x02, GOING_AWAY >> 8, GOING_AWAY & 0xff]);

/**
 * Writes the close frame, then waits up to `timeoutMs` for the peer to end or close the socket;
 * `end` is called after that, `answered` telling whether the peer did (or at once, unanswered,
 * when the socket is already gone).
 */
export function sayGoingAway(socket: Socket, timeoutMs: number, end: (socket: Socket, answered: boolean) => void): void {
  if (socket.destroyed || !socket.writable) {
    end(socket, false);
    return;
  }
  socket.write(CLOSE_FRAME);
  const timer = setTimeout(() => done(false), timeoutMs);
  const answered = () => done(true);
  socket.once('end', answered);
  socket.once('close', answered);
  function done(peer: boolean): void {
    clearTimeout(timer);
    socket.off('end', answered);
    socket.off('close', answered);
    end(socket, peer);
  }
}
