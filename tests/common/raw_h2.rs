//! Hand-written HTTP/2 frames, for clients that break the rules the h2 crate keeps: streams
//! beyond the server's `SETTINGS_MAX_CONCURRENT_STREAMS`.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
pub const HEADERS: u8 = 0x1;
pub const RST_STREAM: u8 = 0x3;
pub const SETTINGS: u8 = 0x4;
pub const GOAWAY: u8 = 0x7;
pub const END_HEADERS: u8 = 0x4;
pub const ACK: u8 = 0x1;
/// The RST_STREAM error code of a stream the server would not open.
pub const REFUSED_STREAM: u32 = 0x7;
/// `SETTINGS_MAX_CONCURRENT_STREAMS`.
pub const MAX_CONCURRENT_STREAMS: u16 = 0x3;

/// A frame: type, flags, stream id, payload.
#[derive(Debug)]
pub struct Frame {
    pub kind: u8,
    pub flags: u8,
    pub stream: u32,
    pub payload: Vec<u8>,
}

pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let length = (payload.len() as u32).to_be_bytes();
    let mut bytes = vec![length[1], length[2], length[3], kind, flags];
    bytes.extend(stream.to_be_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

/// A HEADERS block (HPACK literals, no Huffman) opening a gRPC call to `path`; not the end of
/// the stream.
pub fn grpc_headers(stream: u32, path: &str) -> Vec<u8> {
    let mut block = vec![0x83, 0x86]; // :method POST, :scheme http (static table)
    let literal = |block: &mut Vec<u8>, name_index: &[u8], value: &str| {
        block.extend_from_slice(name_index);
        block.push(value.len() as u8);
        block.extend_from_slice(value.as_bytes());
    };
    literal(&mut block, &[0x04], path); // :path
    literal(&mut block, &[0x01], "localhost"); // :authority
    literal(&mut block, &[0x0f, 0x10], "application/grpc"); // content-type (index 31)
    frame(HEADERS, END_HEADERS, stream, &block)
}

/// Connects, sends the preface and empty SETTINGS, and acknowledges the server's SETTINGS;
/// returns the socket and the server's settings.
pub async fn connect(address: &str) -> (TcpStream, Vec<(u16, u32)>) {
    let mut socket = TcpStream::connect(address).await.unwrap();
    socket.write_all(PREFACE).await.unwrap();
    socket.write_all(&frame(SETTINGS, 0, 0, &[])).await.unwrap();
    loop {
        let received = read_frame(&mut socket).await.unwrap();
        if received.kind == SETTINGS && received.flags & ACK == 0 {
            socket
                .write_all(&frame(SETTINGS, ACK, 0, &[]))
                .await
                .unwrap();
            let settings = received
                .payload
                .chunks(6)
                .map(|entry| {
                    let id = u16::from_be_bytes([entry[0], entry[1]]);
                    let value = u32::from_be_bytes([entry[2], entry[3], entry[4], entry[5]]);
                    (id, value)
                })
                .collect();
            return (socket, settings);
        }
    }
}

/// The next frame, `None` when the connection ended.
pub async fn read_frame(socket: &mut TcpStream) -> Option<Frame> {
    let mut header = [0u8; 9];
    socket.read_exact(&mut header).await.ok()?;
    let length = u32::from_be_bytes([0, header[0], header[1], header[2]]) as usize;
    let mut payload = vec![0; length];
    socket.read_exact(&mut payload).await.ok()?;
    Some(Frame {
        kind: header[3],
        flags: header[4],
        stream: u32::from_be_bytes([header[5], header[6], header[7], header[8]]) & 0x7fff_ffff,
        payload,
    })
}
