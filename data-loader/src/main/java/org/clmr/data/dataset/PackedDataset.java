package org.clmr.data.dataset;

import org.clmr.protocol.UserError;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * A packed dataset opened for reading (format: {@link DatasetIndex}). The data file is memory-mapped in
 * chunks (a data file may exceed 2 GiB), so a crop read is one pass that converts int16 to float
 * straight from the page cache into the caller's array. Before the first read from a chunk of the data file,
 * the chunk's SHA-256 is checked against the index ({@link DataChunks}; the whole file once, for a dataset
 * prepared before chunk hashes existed), so a data file changed after {@code clmr prepare} stops the reader with
 * one line before a changed sample is used. Immutable after {@link #open} but for the chunks found whole; every
 * read method is safe to call from any number of threads.
 */
public final class PackedDataset implements AutoCloseable {
    /** Samples per mapped chunk: 2^29 samples = 1 GiB. */
    static final long DEFAULT_CHUNK_SAMPLES = 1L << 29;
    private static final float SCALE = 1f / 32768f;

    private final Path dir;
    private final DatasetIndex index;
    private final ShortBuffer[] chunks;
    private final long chunkSamples;
    /** Per hashed chunk of the data file (one for the whole file when the index records none): found whole. */
    private final AtomicIntegerArray checked;

    private PackedDataset(Path dir, DatasetIndex index, ShortBuffer[] chunks, long chunkSamples) {
        this.dir = dir;
        this.index = index;
        this.chunks = chunks;
        this.chunkSamples = chunkSamples;
        DataChunks hashed = index.chunks();
        this.checked = new AtomicIntegerArray(hashed.recorded() ? hashed.sha256().size() : 1);
    }

    /** Opens the dataset in {@code dir} whatever its sample rate. */
    public static PackedDataset open(Path dir) {
        return open(dir, 0, DEFAULT_CHUNK_SAMPLES);
    }

    /**
     * Opens the dataset in {@code dir} and checks that its sample rate is {@code expectedRate}.
     *
     * @throws UserError (one line) when the directory is not a complete dataset or the rate differs
     */
    public static PackedDataset open(Path dir, int expectedRate) {
        return open(dir, expectedRate, DEFAULT_CHUNK_SAMPLES);
    }

    static PackedDataset open(Path dir, int expectedRate, long chunkSamples) {
        Path indexFile = dir.resolve(DatasetIndex.FILE);
        if (!Files.isRegularFile(indexFile)) {
            throw new UserError(dir + " is not a packed dataset (no " + DatasetIndex.FILE
                    + "); create one with clmr prepare --input PATH --out " + dir);
        }
        DatasetIndex index = DatasetIndex.read(indexFile);
        if (expectedRate > 0 && index.sampleRate() != expectedRate) {
            throw new UserError("dataset " + dir + " has sample rate " + index.sampleRate() + " Hz but the run expects "
                    + expectedRate + " Hz; re-run clmr prepare --sample-rate " + expectedRate
                    + " or set clmr.run.sample-rate=" + index.sampleRate());
        }
        Path data = dir.resolve(DatasetIndex.DATA_FILE);
        long expectedBytes = 2 * index.totalSamples();
        try (FileChannel ch = FileChannel.open(data, StandardOpenOption.READ)) {
            if (ch.size() != expectedBytes) {
                throw new UserError("dataset " + dir + ": " + DatasetIndex.DATA_FILE + " has " + ch.size()
                        + " bytes but the index says " + expectedBytes + "; the copy is incomplete, copy or prepare it again");
            }
            int n = (int) ((index.totalSamples() + chunkSamples - 1) / chunkSamples);
            ShortBuffer[] chunks = new ShortBuffer[n];
            for (int i = 0; i < n; i++) {
                long start = i * chunkSamples;
                long len = Math.min(chunkSamples, index.totalSamples() - start);
                chunks[i] = ch.map(FileChannel.MapMode.READ_ONLY, 2 * start, 2 * len)
                        .order(ByteOrder.LITTLE_ENDIAN).asShortBuffer();
            }
            return new PackedDataset(dir, index, chunks, chunkSamples);
        } catch (IOException e) {
            throw new UserError("cannot map " + data + ": " + e.getMessage() + "; re-run clmr prepare");
        }
    }

    /** The dataset's directory. */
    public Path dir() {
        return dir;
    }

    /** The index: tracks, tags, sample rate, hash. */
    public DatasetIndex index() {
        return index;
    }

    /** The content hash workers compare. */
    public String contentHash() {
        return index.contentHash();
    }

    /** Hz. */
    public int sampleRate() {
        return index.sampleRate();
    }

    /** All tracks in storage order. */
    public List<Track> tracks() {
        return index.tracks();
    }

    /** Track {@code i}. */
    public Track track(int i) {
        return index.tracks().get(i);
    }

    /** Number of tracks. */
    public int size() {
        return index.tracks().size();
    }

    /**
     * Reads {@code length} samples of {@code track} starting {@code offset} samples into it as floats in
     * [-1, 1); what lies past the end of the track is zero.
     */
    public void readCrop(Track track, long offset, float[] dst, int dstOffset, int length) {
        readRange(track.offset(), track.length(), offset, dst, dstOffset, length);
    }

    /**
     * Reads {@code length} samples from the range of {@code rangeLength} samples that starts at sample
     * {@code rangeStart} of the data file, beginning {@code offset} samples into the range; samples past
     * the range are zero. The range may span several tracks (a song's concatenated clips).
     */
    public void readRange(long rangeStart, long rangeLength, long offset, float[] dst, int dstOffset, int length) {
        if (offset < 0 || rangeStart < 0 || rangeStart + rangeLength > index.totalSamples()) {
            throw new IndexOutOfBoundsException("range [" + rangeStart + ", +" + rangeLength + ") offset " + offset
                    + " outside the data of " + index.totalSamples() + " samples");
        }
        int avail = (int) Math.max(0, Math.min(length, rangeLength - offset));
        long pos = rangeStart + offset;
        if (avail > 0) {
            check(2 * pos, 2 * (pos + avail));
        }
        int out = dstOffset;
        int left = avail;
        while (left > 0) {
            int c = (int) (pos / chunkSamples);
            int at = (int) (pos - c * chunkSamples);
            ShortBuffer chunk = chunks[c];
            int n = Math.min(left, chunk.limit() - at);
            for (int i = 0; i < n; i++) {
                dst[out + i] = chunk.get(at + i) * SCALE;
            }
            out += n;
            pos += n;
            left -= n;
        }
        java.util.Arrays.fill(dst, dstOffset + avail, dstOffset + length, 0f);
    }

    /**
     * Checks the hashed chunks that bytes {@code [from, to)} of the data file lie in, those not checked yet.
     *
     * @throws UserError when one differs from what the index says
     */
    private void check(long from, long to) {
        DataChunks hashed = index.chunks();
        if (!hashed.recorded()) {
            if (checked.get(0) == 0) {
                checkWhole();
            }
            return;
        }
        for (long c = from / hashed.bytes(); c <= (to - 1) / hashed.bytes(); c++) {
            if (checked.get((int) c) == 0) {
                checkChunk((int) c, hashed);
            }
        }
    }

    private synchronized void checkWhole() {
        if (checked.get(0) == 0) {
            verify();
            checked.set(0, 1);
        }
    }

    private synchronized void checkChunk(int c, DataChunks hashed) {
        if (checked.get(c) != 0) {
            return;
        }
        Path data = dir.resolve(DatasetIndex.DATA_FILE);
        long start = c * hashed.bytes();
        long end = Math.min(2 * index.totalSamples(), start + hashed.bytes());
        MessageDigest md = DatasetIndex.sha256Digest();
        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        try (FileChannel ch = FileChannel.open(data, StandardOpenOption.READ)) {
            long at = start;
            while (at < end) {
                buf.clear().limit((int) Math.min(buf.capacity(), end - at));
                int n = ch.read(buf, at);
                if (n < 0) {
                    break;
                }
                buf.flip();
                md.update(buf);
                at += n;
            }
        } catch (IOException e) {
            throw new UserError("cannot read " + data + ": " + e.getMessage());
        }
        String actual = HexFormat.of().formatHex(md.digest());
        if (!actual.equals(hashed.sha256().get(c))) {
            throw new UserError("dataset " + dir + ": bytes " + start + ".." + end + " of " + DatasetIndex.DATA_FILE
                    + " (chunk " + c + ") have SHA-256 " + actual + " but the index says " + hashed.sha256().get(c)
                    + "; the data changed after clmr prepare: prepare it again, or copy the dataset whole");
        }
        checked.set(c, 1);
    }

    /**
     * Recomputes the data file's SHA-256 and checks it against the index (reads the whole file).
     *
     * @throws UserError when the data differs from what the index describes
     */
    public void verify() {
        Path data = dir.resolve(DatasetIndex.DATA_FILE);
        MessageDigest md = DatasetIndex.sha256Digest();
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(data)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        } catch (IOException e) {
            throw new UserError("cannot read " + data + ": " + e.getMessage());
        }
        String actual = HexFormat.of().formatHex(md.digest());
        if (!actual.equals(index.dataSha256())) {
            throw new UserError("dataset " + dir + ": " + DatasetIndex.DATA_FILE + " has SHA-256 " + actual
                    + " but the index says " + index.dataSha256() + "; the data is damaged, prepare or copy it again");
        }
    }

    /** Releases nothing explicitly: the mappings go with the object (the JDK cannot unmap on demand). */
    @Override
    public void close() {
    }
}
