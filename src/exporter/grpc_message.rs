//! A batch as one gRPC message, sent without copying: the 5-byte message prefix (whether it is
//! compressed, the length), then each queued request's bytes as a body frame of its own.
//! Encoded OTLP export requests of one signal concatenate into one valid request, so the
//! uncompressed message is the parts one after the other; a compressed one is one part.

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The body of one gRPC request holding one message made of `parts`.
#[derive(Debug)]
pub struct MessageBody {
    frames: VecDeque<Bytes>,
    /// Bytes not yet yielded.
    remaining: u64,
}

/// A message longer than gRPC's 32-bit length prefix can say.
#[derive(Debug, thiserror::Error)]
#[error("a message of {0} bytes does not fit a gRPC length prefix")]
pub struct TooLong(pub usize);

impl MessageBody {
    /// The uncompressed message made of `parts`.
    pub fn new(parts: Vec<Bytes>) -> Result<Self, TooLong> {
        Self::framed(parts, false)
    }

    /// A message compressed as the request's `grpc-encoding` says.
    pub fn compressed(message: Bytes) -> Result<Self, TooLong> {
        Self::framed(vec![message], true)
    }

    fn framed(parts: Vec<Bytes>, compressed: bool) -> Result<Self, TooLong> {
        let length: usize = parts.iter().map(Bytes::len).sum();
        let prefix_length = u32::try_from(length).map_err(|_| TooLong(length))?;
        let mut prefix = [u8::from(compressed), 0, 0, 0, 0];
        prefix[1..].copy_from_slice(&prefix_length.to_be_bytes());
        let mut frames = VecDeque::with_capacity(parts.len() + 1);
        frames.push_back(Bytes::copy_from_slice(&prefix));
        frames.extend(parts.into_iter().filter(|part| !part.is_empty()));
        Ok(Self {
            frames,
            remaining: prefix.len() as u64 + length as u64,
        })
    }
}

impl Body for MessageBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let next = self.frames.pop_front();
        if let Some(bytes) = &next {
            self.remaining -= bytes.len() as u64;
        }
        Poll::Ready(next.map(|bytes| Ok(Frame::data(bytes))))
    }

    fn is_end_stream(&self) -> bool {
        self.frames.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn the_body_is_the_prefix_then_the_parts_in_order() {
        let parts = vec![
            Bytes::from_static(b"\x0a\x02ab"),
            Bytes::new(),
            Bytes::from_static(b"\x0a\x01c"),
        ];
        let body = MessageBody::new(parts).unwrap();
        assert_eq!(body.size_hint().exact(), Some(12));
        let collected = body.collect().await.unwrap().to_bytes();
        assert_eq!(&collected[..], b"\x00\x00\x00\x00\x07\x0a\x02ab\x0a\x01c");
    }

    #[tokio::test]
    async fn an_empty_batch_is_an_empty_message() {
        let body = MessageBody::new(Vec::new()).unwrap();
        let collected = body.collect().await.unwrap().to_bytes();
        assert_eq!(&collected[..], b"\x00\x00\x00\x00\x00");
    }
}
