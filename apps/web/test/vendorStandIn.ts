import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

/** One connection as the server saw it: the handshake, and every text frame the client sent. */
export interface StandInConnection {
  path: string;
  query: URLSearchParams;
  protocols: string[];
  /** The `Authorization` header (what a relay adds for OpenAI). */
  authorization: string | undefined;
  /** The client's JSON frames, in order. */
  frames: Record<string, unknown>[];
}

/**
 * A real HTTP + WebSocket server on 127.0.0.1 that answers the opening of OpenAI Realtime and
 * ElevenLabs Agents as the services do (`session.created`, then `session.updated` for each
 * `session.update`; `conversation_initiation_metadata` for the client's initiation data) and
 * mints ElevenLabs signed URLs (`GET /v1/convai/conversation/get-signed-url` with `xi-api-key`,
 * CORS-enabled as the page calls it). It holds no conversation: what the tests read is the
 * handshake and the frames, what the page shows is that it connected. It echoes the subprotocol
 * the services answer with (`realtime`, `convai`), as a browser requires.
 */
export interface VendorStandIn {
  /** `ws://127.0.0.1:PORT` */
  readonly origin: string;
  readonly connections: StandInConnection[];
  /** Signed-URL requests: the agent asked for and the `xi-api-key` sent. */
  readonly signedUrlRequests: { agentId: string | null; key: string | undefined }[];
  close(): Promise<void>;
}

const SIGNATURE = 'stand-in-signature';

export async function startVendorStandIn(): Promise<VendorStandIn> {
  const connections: StandInConnection[] = [];
  const signedUrlRequests: VendorStandIn['signedUrlRequests'] = [];
  let origin = '';
  const http: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const cors = {
      'access-control-allow-origin': '*',
      'access-control-allow-headers': 'xi-api-key',
    };
    if (request.method === 'OPTIONS') return void response.writeHead(204, cors).end();
    if (url.pathname !== '/v1/convai/conversation/get-signed-url')
      return void response.writeHead(404, cors).end();
    const key = request.headers['xi-api-key'];
    const agentId = url.searchParams.get('agent_id');
    signedUrlRequests.push({ agentId, key: typeof key === 'string' ? key : undefined });
    if (typeof key !== 'string' || key === '') return void response.writeHead(401, cors).end();
    const signed = `${origin}/v1/convai/conversation?agent_id=${encodeURIComponent(agentId ?? '')}&conversation_signature=${SIGNATURE}`;
    response.writeHead(200, { ...cors, 'content-type': 'application/json' });
    response.end(JSON.stringify({ signed_url: signed }));
  });
  const sockets = new WebSocketServer({
    server: http,
    handleProtocols: (offered) => {
      for (const protocol of ['realtime', 'convai']) if (offered.has(protocol)) return protocol;
      return false;
    },
  });
  sockets.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const header = request.headers['sec-websocket-protocol'];
    const connection: StandInConnection = {
      path: url.pathname,
      query: url.searchParams,
      protocols: typeof header === 'string' ? header.split(',').map((p) => p.trim()) : [],
      authorization: request.headers.authorization,
      frames: [],
    };
    connections.push(connection);
    const send = (message: object) => socket.send(JSON.stringify(message));
    let events = 0;
    const eventId = () => `event_${++events}`;
    if (url.pathname === '/v1/realtime')
      send({
        type: 'session.created',
        event_id: eventId(),
        session: { id: 'sess_standin', type: 'realtime' },
      });
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      let frame: Record<string, unknown>;
      try {
        frame = JSON.parse(String(data)) as Record<string, unknown>;
      } catch {
        return;
      }
      // The microphone's frames are not kept: only what the tests read.
      if (frame.type === 'input_audio_buffer.append' || 'user_audio_chunk' in frame) return;
      connection.frames.push(frame);
      if (frame.type === 'session.update')
        send({ type: 'session.updated', event_id: eventId(), session: frame.session });
      if (frame.type === 'conversation_initiation_client_data')
        send({
          type: 'conversation_initiation_metadata',
          conversation_initiation_metadata_event: {
            conversation_id: 'conv_standin',
            agent_output_audio_format: 'pcm_16000',
            user_input_audio_format: 'pcm_16000',
          },
        });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  origin = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    origin,
    connections,
    signedUrlRequests,
    async close() {
      for (const client of sockets.clients) client.terminate();
      await new Promise((resolve) => sockets.close(resolve));
      await new Promise((resolve) => http.close(resolve));
    },
  };
}
