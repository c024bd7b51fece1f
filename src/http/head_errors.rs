//! Envelopes for the answers actix-http gives by itself, before any application code runs, to
//! a request head it cannot parse: 400 for a URI longer than the `http` crate takes (65,534
//! bytes), a malformed request line or header; 431 for a head over 128 KB or with more than 96
//! header fields. actix-http writes these with an empty body and closes the connection.
//!
//! [`HeadGuard`] wraps each connection's stream. When a write ends with such an empty 400 or
//! 431, it writes the same status with the contract's error envelope instead (§7). The
//! application never sends an empty-bodied 400 or 431 (its errors all carry the envelope), so
//! nothing else is touched, and a write that does not end in a blank line (any response with
//! a body) is passed on after one comparison. The match is on the end of a write, not on
//! response framing: a body ending in those exact bytes would be taken for one, and no body
//! does (JSON escapes CR and LF, CSV quotes them, the rest is generated binary).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

const MALFORMED: (&str, &str) = (
    "malformed_request",
    "the request line or a header could not be read (a URI is limited to 64 KB)",
);
/// actix-http answers 431 for more than 96 header fields as for a head over 128 KB, and does
/// not say which: the message names both.
const TOO_LARGE: (&str, &str) = (
    "request_head_too_large",
    "request head too large: too many header fields (at most 96) or over 128 KB in all",
);

/// The heads actix-http writes for requests it could not parse (in the version of the
/// connection's last request), and what the envelope says.
const PARSE_ERRORS: [(&[u8], (&str, &str)); 4] = [
    (
        b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n",
        MALFORMED,
    ),
    (
        b"HTTP/1.0 400 Bad Request\r\ncontent-length: 0\r\n",
        MALFORMED,
    ),
    (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n",
        TOO_LARGE,
    ),
    (
        b"HTTP/1.0 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n",
        TOO_LARGE,
    ),
];

/// An empty-bodied response is a head alone; actix-http's error heads are well under this.
const LONGEST_ERROR_HEAD: usize = 256;

/// A connection's stream, with actix-http's own parse-error answers given the envelope.
pub struct HeadGuard<T> {
    io: T,
    /// The envelope answer being written in place of the original, and how much of it is out.
    replacing: Option<(Vec<u8>, usize)>,
}

impl<T> HeadGuard<T> {
    pub fn new(io: T) -> Self {
        Self {
            io,
            replacing: None,
        }
    }
}

/// Where in `buf` an empty-bodied parse-error answer starts, if `buf` ends with one, and the
/// envelope's code and message for it.
fn parse_error_at(buf: &[u8]) -> Option<(usize, &'static str, &'static str)> {
    if !buf.ends_with(b"\r\n\r\n") {
        return None;
    }
    let from = buf.len().saturating_sub(LONGEST_ERROR_HEAD);
    PARSE_ERRORS.iter().find_map(|(head, (code, message))| {
        let at = buf[from..]
            .windows(head.len())
            .rposition(|w| w == *head)
            .map(|i| from + i)?;
        // The head must be the last thing written: its blank line is the end of `buf`.
        let blank = buf[at..].windows(4).position(|w| w == b"\r\n\r\n")?;
        (at + blank + 4 == buf.len()).then_some((at, *code, *message))
    })
}

/// The same status and date as the empty `original`, with the envelope as its body.
fn with_envelope(original: &[u8], code: &str, message: &str) -> Vec<u8> {
    let head = String::from_utf8_lossy(original);
    let mut lines = head.split("\r\n").filter(|l| !l.is_empty());
    let status = lines.next().unwrap_or("HTTP/1.1 400 Bad Request");
    let body = serde_json::json!({"error": {"code": code, "message": message}}).to_string();
    let mut out = format!(
        "{status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for line in lines {
        let name = line.split(':').next().unwrap_or("").to_ascii_lowercase();
        if !matches!(name.as_str(), "content-length" | "connection") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("\r\n");
    out.push_str(&body);
    out.into_bytes()
}

impl<T: AsyncRead + Unpin> AsyncRead for HeadGuard<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for HeadGuard<T> {
    #[expect(
        clippy::expect_used,
        reason = "the replacement was set just above in this same call"
    )]
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.replacing.is_none() {
            match parse_error_at(buf) {
                None => return Pin::new(&mut this.io).poll_write(cx, buf),
                // Whatever precedes the error answer (pipelined answers) goes out as it is.
                Some((at, ..)) if at > 0 => {
                    return Pin::new(&mut this.io).poll_write(cx, &buf[..at])
                }
                Some((_, code, message)) => {
                    this.replacing = Some((with_envelope(buf, code, message), 0))
                }
            }
        }
        let (out, done) = this.replacing.as_mut().expect("set above");
        while *done < out.len() {
            match Pin::new(&mut this.io).poll_write(cx, &out[*done..]) {
                Poll::Ready(Ok(n)) if n > 0 => *done += n,
                Poll::Pending => return Poll::Pending,
                failed => {
                    this.replacing = None;
                    return match failed {
                        Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                        _ => Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                    };
                }
            }
        }
        // The caller's bytes are answered for as a whole: the envelope stood in for them.
        this.replacing = None;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &str = "date: Mon, 30 Nov 2026 20:49:05 GMT\r\n";

    /// Everything written through a guard, as the peer would read it.
    fn through_guard(writes: &[&[u8]]) -> Vec<u8> {
        let mut guard = HeadGuard::new(Vec::new());
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        for write in writes {
            let mut rest: &[u8] = write;
            while !rest.is_empty() {
                match Pin::new(&mut guard).poll_write(&mut cx, rest) {
                    Poll::Ready(Ok(n)) => rest = &rest[n..],
                    other => panic!("{other:?}"),
                }
            }
        }
        guard.io
    }

    fn split(answer: &[u8]) -> (String, serde_json::Value) {
        let text = String::from_utf8(answer.to_vec()).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(length, body.len(), "{text}");
        (head.to_string(), serde_json::from_str(body).unwrap())
    }

    #[test]
    fn an_empty_400_gets_the_envelope_and_keeps_status_and_date() {
        let original = format!(
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n{DATE}\r\n"
        );
        let (head, body) = split(&through_guard(&[original.as_bytes()]));
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{head}");
        assert!(head.contains("content-type: application/json"), "{head}");
        assert!(head.contains(DATE.trim_end()), "{head}");
        assert_eq!(head.matches("connection: close").count(), 1, "{head}");
        assert_eq!(body["error"]["code"], "malformed_request");
    }

    #[test]
    fn an_http_1_0_connection_gets_the_envelope_too() {
        let original = format!("HTTP/1.0 400 Bad Request\r\ncontent-length: 0\r\n{DATE}\r\n");
        let (head, body) = split(&through_guard(&[original.as_bytes()]));
        assert!(head.starts_with("HTTP/1.0 400 Bad Request\r\n"), "{head}");
        assert_eq!(body["error"]["code"], "malformed_request");
    }

    #[test]
    fn an_empty_431_gets_its_own_code() {
        let original = format!(
            "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n{DATE}\r\n"
        );
        let (head, body) = split(&through_guard(&[original.as_bytes()]));
        assert!(head.starts_with("HTTP/1.1 431 "), "{head}");
        assert_eq!(body["error"]["code"], "request_head_too_large");
    }

    #[test]
    fn pipelined_answers_before_the_error_pass_untouched() {
        let ok =
            format!("HTTP/1.1 200 OK\r\ncontent-length: 15\r\n{DATE}\r\n{{\"status\":\"ok\"}}");
        let error = format!("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n{DATE}\r\n");
        let written = through_guard(&[format!("{ok}{error}").as_bytes()]);
        assert!(written.starts_with(ok.as_bytes()));
        let (_, body) = split(&written[ok.len()..]);
        assert_eq!(body["error"]["code"], "malformed_request");
    }

    #[test]
    fn other_answers_are_never_touched() {
        let answers = [
            // A body after the blank line: not an error head, even with the same status.
            format!("HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n{DATE}\r\n{{}}"),
            // Empty bodies with other statuses (HEAD, 204, 304).
            format!("HTTP/1.1 204 No Content\r\n{DATE}\r\n"),
            format!("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n{DATE}\r\n"),
            // The error head followed by more bytes is not the last answer.
            format!("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n{DATE}\r\nHTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"),
        ];
        for answer in answers {
            assert_eq!(through_guard(&[answer.as_bytes()]), answer.as_bytes());
        }
    }

    #[test]
    fn an_error_head_written_in_pieces_is_left_as_it_is() {
        // Only a write ending in the whole head is recognised; a torn one passes through.
        let error = format!("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n{DATE}\r\n");
        let (a, b) = error.as_bytes().split_at(10);
        assert_eq!(through_guard(&[a, b]), error.as_bytes());
    }
}
