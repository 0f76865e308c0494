# Checks the sseclient.py stand-in beside this file against hand-written SSE streams, each fed
# whole, in 128-byte chunks (what iterating a `requests` response gives) and one byte at a time.
# Run by test/clients/seed-examples.test.ts; prints "sseclient selftest: N checks passed".
import sys

import sseclient


class Source(object):
    def __init__(self, body, size):
        self._chunks = [body[i:i + size] for i in range(0, len(body), size)] or [b'']
        self.closed = False

    def __iter__(self):
        return iter(self._chunks)

    def close(self):
        self.closed = True


def parse(body, size):
    return [(e.id, e.event, e.data, e.retry) for e in sseclient.SSEClient(Source(body, size)).events()]


CASES = [
    # (stream, expected events as (id, event, data, retry))
    (b'retry: 3000\n: connected\n\nid: 1\nevent: message\ndata: {"a": 1}\n\n: ping\n\n'
     b'id: 2\nevent: complete\ndata: {"done": true}\n\n',
     [('1', 'message', '{"a": 1}', None), ('2', 'complete', '{"done": true}', None)]),
    (b'data: one\ndata: two\ndata:three\n\n', [(None, 'message', 'one\ntwo\nthree', None)]),
    (b'event: x\r\ndata: crlf\r\n\r\nevent: y\rdata: cr\r\r', [(None, 'x', 'crlf', None), (None, 'y', 'cr', None)]),
    # `data` alone is a data field with an empty value: dispatched, with empty data (as the spec
    # and sseclient-py do); only one leading space of a value is dropped.
    (b'data\n\ndata:  two spaces\n\n', [(None, 'message', '', None), (None, 'message', ' two spaces', None)]),
    (b'foo: bar\nid: 7\nretry: 10\ndata: x\n\nevent: empty\n\n', [('7', 'message', 'x', '10')]),
    ('data: caf\u00e9 \u2713\n\n'.encode('utf-8'), [(None, 'message', 'caf\u00e9 \u2713', None)]),
    (b'data: tail without blank line', [(None, 'message', 'tail without blank line', None)]),
    (b'', []),
]


def main():
    checks = 0
    for body, expected in CASES:
        for size in (max(len(body), 1), 128, 1):
            got = parse(body, size)
            if got != expected:
                print('FAIL for %r in %d-byte chunks:\n  got      %r\n  expected %r' % (body, size, got, expected))
                sys.exit(1)
            checks += 1
    event = sseclient.Event(id='3', event='complete', data='{}')
    assert str(event) == 'complete event #3, 2 bytes', str(event)
    source = Source(b'', 1)
    sseclient.SSEClient(source).close()
    assert source.closed
    checks += 2
    print('sseclient selftest: %d checks passed' % checks)


if __name__ == '__main__':
    main()
