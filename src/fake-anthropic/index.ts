/** Public surface of the fake Anthropic Messages API (tests and the offline demo import from here). */
export {
  ANTHROPIC_ERROR_TYPES,
  anthropicErrorBody,
  defaultErrorMessage,
  errorTypeForStatus,
  statusForErrorType,
} from './api-errors.js';
export type { AnthropicErrorBody, AnthropicErrorType } from './api-errors.js';
export { DIRECTIVE_NAMES, parseDirectives } from './directives.js';
export type { Directive, ParsedDirectives } from './directives.js';
export { errorReply, hangReply, messageReply, textReply, toolUseReply } from './reply.js';
export type { Reply } from './reply.js';
export {
  findWorkingDirectory,
  isStreamingRequest,
  lastUserMessage,
  messageText,
  promptText,
  requestMessages,
  requestModel,
  stripSystemReminders,
  toolResults,
  userTexts,
} from './request-body.js';
export type { RequestMessage, ToolResultView } from './request-body.js';
export { DEMO_PREFIX, TOOL_RESULT_PREFIX, defaultResponder, resolvePath } from './responder.js';
export type { Responder, ResponderContext } from './responder.js';
export { isLoopbackHost, requestUserTexts, startFakeAnthropic } from './server.js';
export type { FakeAnthropic, FakeAnthropicOptions, RecordedRequest, ScriptedReply } from './server.js';
export { buildWireMessage, encodeSseEvent, parseSse, toJsonMessage, toSseEvents } from './wire.js';
export type {
  ParsedSseEvent,
  ScriptedBlock,
  ScriptedMessage,
  SseEvent,
  StopReason,
  WireMessage,
} from './wire.js';
