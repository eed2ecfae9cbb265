package org.clmr.data.dataset;

import org.clmr.protocol.UserError;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Writes a packed dataset (format: {@link DatasetIndex}). Everything goes into a hidden temporary
 * directory beside the target ({@code .NAME.partial-*}) that is renamed to the target only by
 * {@link #commit()}, so an interrupted prepare never leaves a directory that looks complete. One thread
 * adds tracks, in the order they are to be stored. {@link #close()} without a commit deletes the
 * temporary directory.
 */
public final class PackedDatasetWriter implements AutoCloseable {
    private final Path target;
    private final Path temp;
    private final int sampleRate;
    private final List<String> tags;
    private final Map<String, String> provenance;
    private final FileChannel data;
    private final DataChunks.Hasher digest;
    private final List<Track> tracks = new ArrayList<>();
    private final List<Skipped> skipped = new ArrayList<>();
    private final Set<String> ids = new HashSet<>();
    private ByteBuffer scratch = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    private final Thread cleanupOnExit;
    private long samples;
    private volatile boolean committed;

    /**
     * Starts a dataset at {@code target}.
     *
     * @param target     the dataset directory; must not exist unless {@code replace}
     * @param sampleRate Hz of every track added
     * @param tags       the tag vocabulary
     * @param provenance informative key/values stored in the index (input, format, ...)
     * @param replace    replace an existing dataset at {@code target} on commit
     */
    public PackedDatasetWriter(Path target, int sampleRate, List<String> tags, Map<String, String> provenance,
                               boolean replace) {
        this(target, sampleRate, tags, provenance, replace, DataChunks.DEFAULT_BYTES);
    }

    /** A writer whose data file is hashed in chunks of {@code chunkBytes} (tests use small ones). */
    PackedDatasetWriter(Path target, int sampleRate, List<String> tags, Map<String, String> provenance,
                        boolean replace, long chunkBytes) {
        this.digest = new DataChunks.Hasher(chunkBytes);
        this.target = target.toAbsolutePath().normalize();
        this.sampleRate = sampleRate;
        this.tags = List.copyOf(tags);
        this.provenance = Map.copyOf(provenance);
        if (Files.exists(this.target) && !replace) {
            throw new UserError("output " + target + " already exists; remove it or pass --force to replace it");
        }
        try {
            Files.createDirectories(this.target.getParent());
            this.temp = Files.createTempDirectory(this.target.getParent(), "." + this.target.getFileName() + ".partial-");
            this.data = FileChannel.open(temp.resolve(DatasetIndex.DATA_FILE), StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UserError("cannot create the dataset " + target + ": " + e.getMessage() + "; check the path and permissions");
        }
        // Ctrl-C during a prepare removes the partial directory (a kill -9 leaves it, hidden and never complete)
        this.cleanupOnExit = new Thread(() -> {
            if (!committed) {
                try {
                    deleteTree(temp);
                } catch (IOException e) {
                    // the JVM is exiting; a leftover .partial directory is harmless
                }
            }
        }, "clmr-dataset-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanupOnExit);
    }

    /** Adds a track whose samples are little-endian int16 PCM in {@code pcm} (position to limit). */
    public Track addPcm16(String id, String source, ByteBuffer pcm, int[] trackTags, Split split, String song) {
        int length = pcm.remaining() / 2;
        ByteBuffer b = pcm.duplicate();
        b.limit(b.position() + 2 * length);
        Track t = register(id, source, length, trackTags, split, song);
        digest.update(b.duplicate());
        writeFully(b);
        return t;
    }

    /** Adds a track of float samples in [-1, 1], stored rounded and clipped to 16 bits. */
    public Track add(String id, String source, float[] samples, int[] trackTags, Split split, String song) {
        Track t = register(id, source, samples.length, trackTags, split, song);
        int i = 0;
        while (i < samples.length) {
            scratch.clear();
            int n = Math.min(scratch.capacity() / 2, samples.length - i);
            for (int k = 0; k < n; k++) {
                scratch.putShort(org.clmr.data.audio.Wav.toPcm16(samples[i + k]));
            }
            scratch.flip();
            digest.update(scratch.duplicate());
            writeFully(scratch);
            i += n;
        }
        return t;
    }

    /** Records an input that was left out. */
    public void skip(String source, String reason) {
        skipped.add(new Skipped(source, reason));
    }

    /** Tracks added so far. */
    public int trackCount() {
        return tracks.size();
    }

    private Track register(String id, String source, int length, int[] trackTags, Split split, String song) {
        if (committed) {
            throw new IllegalStateException("dataset already committed");
        }
        if (!ids.add(id)) {
            throw new IllegalArgumentException("duplicate track id " + id);
        }
        for (int tag : trackTags) {
            if (tag < 0 || tag >= tags.size()) {
                throw new IllegalArgumentException("tag index " + tag + " outside the vocabulary of " + tags.size());
            }
        }
        Track t = new Track(id, source, samples, length, trackTags, split, song);
        samples += length;
        tracks.add(t);
        return t;
    }

    private void writeFully(ByteBuffer b) {
        try {
            while (b.hasRemaining()) {
                data.write(b);
            }
        } catch (IOException e) {
            throw new UserError("cannot write " + temp.resolve(DatasetIndex.DATA_FILE) + ": " + e.getMessage()
                    + "; check free disk space");
        }
    }

    /**
     * Finishes the dataset: writes the index and the prepare report, then renames the temporary
     * directory to the target (replacing an old dataset only now). Fails with a {@link UserError} when no
     * track was added.
     *
     * @param reportExtras extra facts for the report (elapsed time, ...), may be empty
     */
    public DatasetIndex commit(Map<String, Object> reportExtras) {
        if (tracks.isEmpty()) {
            StringBuilder why = new StringBuilder("no usable audio: 0 tracks packed");
            if (!skipped.isEmpty()) {
                why.append(", ").append(skipped.size()).append(" skipped (first: ")
                        .append(skipped.get(0).source()).append(": ").append(skipped.get(0).reason()).append(")");
            }
            throw new UserError(why + "; check --input and --format");
        }
        String dataSha = digest.wholeSha256();
        String hash = DatasetIndex.contentHash(sampleRate, tags, tracks, dataSha);
        DatasetIndex index = new DatasetIndex(sampleRate, tags, tracks, skipped, dataSha, hash, provenance,
                digest.chunks());
        try {
            data.force(true);
            data.close();
            index.write(temp.resolve(DatasetIndex.FILE));
            PrepareReport.write(temp, index, reportExtras);
            Path old = null;
            if (Files.exists(target)) {
                old = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".old-");
                Files.delete(old);
                Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
            }
            // a dataset is no secret and other users' services read it: not the 0700 of a temporary directory
            Files.setPosixFilePermissions(temp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target);
            }
            committed = true;
            removeCleanupHook();
            if (old != null) {
                deleteTree(old);
            }
        } catch (IOException e) {
            throw new UserError("cannot finish the dataset " + target + ": " + e.getMessage());
        }
        return index;
    }

    /** Deletes the temporary directory unless the dataset was committed. */
    @Override
    public void close() {
        if (committed) {
            return;
        }
        removeCleanupHook();
        try {
            data.close();
            deleteTree(temp);
        } catch (IOException e) {
            // best effort: a leftover .partial directory is hidden and never mistaken for a dataset
        }
    }

    private void removeCleanupHook() {
        try {
            Runtime.getRuntime().removeShutdownHook(cleanupOnExit);
        } catch (IllegalStateException e) {
            // shutting down already: the hook runs and finds the state it needs
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
