/** One frame of the Docker multiplexed stream format (stdout or stderr). */
export interface MuxFrame {
  readonly stream: 'stdout' | 'stderr';
  readonly data: Buffer;
}

/**
 * Split a whole multiplexed log body (the answer of `GET /containers/{id}/logs` without
 * `follow`) into its frames: each is an 8-byte header (stream type 1 = stdout, 2 = stderr,
 * 3 zero bytes, big-endian uint32 length) and its payload. A body that does not start with a
 * valid header is not multiplexed (a TTY container): it is returned whole as stdout, as is
 * whatever follows a malformed header. A truncated last frame keeps what it has. Pure.
 */
export function demuxBuffer(body: Buffer): MuxFrame[] {
  const frames: MuxFrame[] = [];
  let at = 0;
  while (at < body.length) {
    const type = body[at];
    if (body.length - at < 8 || (type !== 1 && type !== 2)) {
      frames.push({ stream: 'stdout', data: body.subarray(at) });
      break;
    }
    const size = body.readUInt32BE(at + 4);
    frames.push({ stream: type === 1 ? 'stdout' : 'stderr', data: body.subarray(at + 8, at + 8 + size) });
    at += 8 + size;
  }
  return frames;
}
