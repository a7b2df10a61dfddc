/**
 * Audio the client sent that cannot be decoded as the session's `inputEncoding`: an odd number of
 * bytes of 16-bit PCM, a WAV header the local agent does not understand, a container it cannot
 * read. The session survives it: the agent answers with a 4400 error and keeps listening, so the
 * message says what was wrong with the data, never anything about the server.
 */
export class InputDecodeError extends Error {
  override readonly name = 'InputDecodeError';
}
