//! Compressing a batch for the wire, off the runtime's threads: gzip or zstd of a megabyte
//! takes milliseconds, which would hold up every connection sharing the worker thread. A batch
//! is compressed once, however often it is retried; one that cannot be compressed goes as it is.

use crate::config::Compression;
use bytes::Bytes;
use flate2::write::GzEncoder;
use std::io::Write;

/// `data` compressed as configured, with the name of its encoding (`gzip`, `zstd`: the same in
/// `Content-Encoding` and `grpc-encoding`); `None` when sent as it is.
pub async fn compressed(compression: Compression, data: Bytes) -> (Bytes, Option<&'static str>) {
    let (encoding, compress): (_, Compressor) = match compression {
        Compression::None => return (data, None),
        Compression::Gzip => ("gzip", gzip),
        Compression::Zstd => ("zstd", zstd),
    };
    let kept = data.clone();
    match tokio::task::spawn_blocking(move || compress(&data)).await {
        Ok(Ok(body)) => (Bytes::from(body), Some(encoding)),
        Ok(Err(_)) | Err(_) => (kept, None),
    }
}

type Compressor = fn(&[u8]) -> std::io::Result<Vec<u8>>;

fn zstd(data: &[u8]) -> std::io::Result<Vec<u8>> {
    zstd::bulk::compress(data, 1)
}

fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(
        Vec::with_capacity(data.len() / 4),
        flate2::Compression::fast(),
    );
    encoder.write_all(data)?;
    encoder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn gzip_and_zstd_round_trip_and_none_passes_the_bytes_as_they_are() {
        let data = Bytes::from("otlp ".repeat(10_000));
        let (gzipped, encoding) = compressed(Compression::Gzip, data.clone()).await;
        assert_eq!(encoding, Some("gzip"));
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&gzipped[..])
            .read_to_end(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, data);
        let (zstd, encoding) = compressed(Compression::Zstd, data.clone()).await;
        assert_eq!(encoding, Some("zstd"));
        assert_eq!(zstd::decode_all(&zstd[..]).unwrap(), data);
        let (plain, encoding) = compressed(Compression::None, data.clone()).await;
        assert_eq!((plain.as_ptr(), encoding), (data.as_ptr(), None));
    }
}
