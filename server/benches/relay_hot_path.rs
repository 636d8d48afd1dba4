//! The relay's hot path, guarded: one batch of media (what 100 ms of a 1.5 Mbit/s live holds)
//! published to 500 destinations' ring readers, each taking the shared chunks for its outbox —
//! the per-destination work of the relay minus the system call.
// `criterion_group!` makes a public function it cannot document.
#![allow(missing_docs)]

use std::collections::VecDeque;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use server::relay::batch::Batch;
use server::relay::hub::Hub;
use server::relay::media::{MediaChunker, MediaKind, SHARED_STREAM_ID};

fn batch(chunker: &mut MediaChunker, at: u32) -> Batch {
    let mut media = Vec::new();
    // Three video frames (~6 KB each) and five AAC frames, as in 100 ms of the bench source.
    for i in 0..3u32 {
        let mut frame = vec![if i == 0 { 0x17 } else { 0x27 }, 1, 0, 0, 0];
        frame.resize(6_000, 0x42);
        if let Ok(m) = chunker.media(MediaKind::Video, Bytes::from(frame), at + i * 33) {
            media.push(m);
        }
    }
    for i in 0..5u32 {
        let mut frame = vec![0xaf, 1];
        frame.resize(370, 0x21);
        if let Ok(m) = chunker.media(MediaKind::Audio, Bytes::from(frame), at + i * 21) {
            media.push(m);
        }
    }
    Batch::new(media)
}

fn one_batch_to_500_destinations(c: &mut Criterion) {
    let Ok(mut chunker) = MediaChunker::new(SHARED_STREAM_ID) else { return };
    let hub = Hub::new(server::relay::RING_BATCHES);
    let mut readers: Vec<_> = (0..500).map(|_| hub.subscribe()).collect();
    let mut outboxes: Vec<VecDeque<Bytes>> = (0..500).map(|_| VecDeque::new()).collect();
    let mut at = 0u32;
    c.bench_function("publish one batch, 500 destinations take it", |b| {
        b.iter(|| {
            at = at.wrapping_add(100);
            hub.publish(batch(&mut chunker, at));
            for (reader, outbox) in readers.iter_mut().zip(outboxes.iter_mut()) {
                if let Ok(batch) = reader.try_recv() {
                    outbox.push_back(batch.chunks_from(0));
                }
                outbox.clear();
            }
        });
    });
}

criterion_group!(benches, one_batch_to_500_destinations);
criterion_main!(benches);
