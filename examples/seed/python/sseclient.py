# A stand-in for the `sseclient` module of the sseclient-py package (PyPI "sseclient-py"),
# which the seed's Python example imports (`import sseclient`).
#
# Why it exists: the project's machines and CI reach only the npm registry and Debian's
# packages; PyPI is not reachable and Debian does not package sseclient-py. So that the seed's
# example can still run as written, seed-examples.test.ts puts this folder on PYTHONPATH and this
# file answers `import sseclient`.
#
# It is a clean-room re-implementation of sseclient-py's public API, written from its documented
# behaviour and the SSE specification (WHATWG HTML, "Server-sent events"), not copied from it:
#   SSEClient(event_source, char_enc='utf-8')
#       event_source: an iterable of byte chunks with a close() method, usually a `requests`
#       response made with stream=True (iterating one yields its body in small chunks, as
#       sseclient-py consumes it).
#   SSEClient.events()   generator of Event objects, one per dispatched event
#   SSEClient.close()    closes the event source
#   Event(id=None, event='message', data='', retry=None)   with attributes .id, .event, .data, .retry
#
# Parsing, as sseclient-py does it and as the spec says: lines end in CRLF, LF or CR; a blank line
# dispatches the event; lines starting with ':' are comments; `field: value` loses one leading
# space of the value; a line without ':' is a field with an empty value; `data` lines accumulate,
# joined by '\n'; unknown fields are ignored; an event with no data is not dispatched; an event
# without an `event` field is a 'message'. Lines are split as bytes and decoded one by one with
# char_enc, so a multi-byte character split across chunks is never broken.
#
# Where it differs from sseclient-py (none of it matters to the seed's example):
#   - A CRLF split across two chunks counts as one line end (sseclient-py can see an extra blank
#     line there and dispatch early). Here the parser simply follows the spec.
#   - Like sseclient-py, and unlike a browser's EventSource, `id` and `retry` are per event (the
#     raw strings, None when absent), not remembered across events; text left without a blank
#     line at the end of the stream is still dispatched, as sseclient-py does.
import logging

__all__ = ['SSEClient', 'Event']

_logger = logging.getLogger(__name__)

_FIELDS = ('id', 'event', 'data', 'retry')


class Event(object):
    """One server-sent event."""

    def __init__(self, id=None, event='message', data='', retry=None):
        self.id = id
        self.event = event
        self.data = data
        self.retry = retry

    def __str__(self):
        text = '{0} event'.format(self.event)
        if self.id:
            text += ' #{0}'.format(self.id)
        text += ', {0} bytes'.format(len(self.data)) if self.data else ', no data'
        if self.retry:
            text += ', with retry of {0}ms'.format(self.retry)
        return text

    def __repr__(self):
        return 'Event(id={0!r}, event={1!r}, data={2!r}, retry={3!r})'.format(
            self.id, self.event, self.data, self.retry)


class SSEClient(object):
    """Reads server-sent events from an already open event source."""

    def __init__(self, event_source, char_enc='utf-8'):
        self._event_source = event_source
        self._char_enc = char_enc

    def _lines(self):
        """Yields each line of the stream as bytes, without its line end."""
        pending = b''
        for chunk in self._event_source:
            if not chunk:
                continue
            pending += chunk
            start = 0
            while True:
                cr = pending.find(b'\r', start)
                lf = pending.find(b'\n', start)
                if cr == -1 and lf == -1:
                    break
                if lf != -1 and (cr == -1 or lf < cr):
                    yield pending[start:lf]
                    start = lf + 1
                elif cr + 1 < len(pending):
                    yield pending[start:cr]
                    start = cr + (2 if pending[cr + 1:cr + 2] == b'\n' else 1)
                else:
                    break  # a CR at the end of what we have: wait, it may be half of a CRLF
            pending = pending[start:]
        if pending.endswith(b'\r'):
            pending = pending[:-1]
            yield pending
            pending = b''
        if pending:
            yield pending

    def events(self):
        fields = {}
        data = []
        for raw in self._lines():
            if not raw:
                event = self._dispatch(fields, data)
                fields, data = {}, []
                if event is not None:
                    yield event
                continue
            line = raw.decode(self._char_enc)
            if line.startswith(':'):
                continue
            name, sep, value = line.partition(':')
            if sep and value.startswith(' '):
                value = value[1:]
            if name == 'data':
                data.append(value)
            elif name in _FIELDS:
                fields[name] = value
            else:
                _logger.debug('Ignoring unknown SSE field %r', name)
        event = self._dispatch(fields, data)
        if event is not None:
            yield event

    @staticmethod
    def _dispatch(fields, data):
        if not data:
            return None
        return Event(
            id=fields.get('id'),
            event=fields.get('event') or 'message',
            data='\n'.join(data),
            retry=fields.get('retry'),
        )

    def close(self):
        """Closes the event source (ends the HTTP response)."""
        self._event_source.close()
