package org.clmr.protocol.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.clmr.protocol.security.PrivateFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A {@link CheckpointStore} in a directory: {@code <root>/<runId>/step-<step>.ckpt} holds the payload and
 * {@code step-<step>.json} its record. A write goes to a temporary name, is forced to disk, read back and
 * checked for size and SHA-256, and only then renamed into place (the record last), so a crash leaves
 * either a complete checkpoint or none. A write that fails (a full disk) deletes its temporary files before
 * it throws {@link CheckpointWriteException}, and every write first deletes those of writes whose process
 * died. Checkpoints hold the run's weights: the directories it creates are 0700 and every file it writes 0600
 * from its creation ({@link PrivateFiles}). Thread-safe: writes are serialised.
 */
public final class DirectoryCheckpointStore implements CheckpointStore {
    private static final Pattern RUN_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** What a temporary file's name has between its final name and the writing process's PID. */
    private static final String TEMP = ".tmp-";
    private final Path root;

    /** A store rooted at {@code root} (created if absent). */
    public DirectoryCheckpointStore(Path root) {
        this.root = root;
    }

    /** The directory holding a run's checkpoints. */
    public Path runDirectory(String runId) {
        if (!RUN_ID.matcher(runId).matches()) {
            throw new IllegalArgumentException("run id '" + runId + "' must match " + RUN_ID.pattern());
        }
        return root.resolve(runId);
    }

    @Override
    public synchronized CheckpointRecord write(String runId, long step, int epoch, long generation,
                                               String runSpecHash, byte[] payload) {
        Path dir = runDirectory(runId);
        String base = String.format("step-%012d", step);
        Path target = dir.resolve(base + ".ckpt");
        Path temp = dir.resolve("." + base + ".ckpt" + TEMP + ProcessHandle.current().pid());
        Path recordTemp = dir.resolve("." + base + ".json" + TEMP + ProcessHandle.current().pid());
        boolean done = false;
        try {
            PrivateFiles.createDirectory(dir);
            removeStaleTemporaries(dir);
            writeAndForce(temp, payload);
            byte[] back = Files.readAllBytes(temp);
            String sha = CheckpointPayload.sha256Hex(payload);
            if (back.length != payload.length || !CheckpointPayload.sha256Hex(back).equals(sha)) {
                throw new CheckpointCorruptException("checkpoint " + temp + " read back " + back.length
                        + " bytes with another SHA-256 than the " + payload.length + " written; check the disk");
            }
            CheckpointRecord record = new CheckpointRecord(runId, step, epoch, generation, payload.length, sha,
                    Instant.now(), runSpecHash, target.toString());
            writeAndForce(recordTemp, JSON.writeValueAsBytes(toJson(record)));
            // the payload goes into place first: a record never names a file that is not there
            move(temp, target);
            move(recordTemp, dir.resolve(base + ".json"));
            forceDirectory(dir);
            done = true;
            return record;
        } catch (IOException e) {
            throw new CheckpointWriteException("cannot write checkpoint " + target + ": " + e.getMessage(), e);
        } finally {
            if (!done) {
                deleteQuietly(temp);
                deleteQuietly(recordTemp);
            }
        }
    }

    /**
     * Deletes the temporary files of writes that did not finish (their process died mid-write, or is this one):
     * every {@code .step-*.tmp-PID} whose PID is not alive or is this process's.
     */
    private static void removeStaleTemporaries(Path dir) throws IOException {
        long self = ProcessHandle.current().pid();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String name = p.getFileName().toString();
                int at = name.lastIndexOf(TEMP);
                if (!name.startsWith(".step-") || at < 0) {
                    continue;
                }
                long pid;
                try {
                    pid = Long.parseLong(name.substring(at + TEMP.length()));
                } catch (NumberFormatException e) {
                    continue;
                }
                if (pid == self || ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true)) {
                    deleteQuietly(p);
                }
            }
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // a temporary that cannot be deleted now is deleted by the next write's sweep
        }
    }

    @Override
    public byte[] read(CheckpointRecord record) {
        Path file = Path.of(record.location());
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new CheckpointCorruptException("checkpoint " + file + " is unreadable: " + e.getMessage());
        }
        if (bytes.length != record.sizeBytes()) {
            throw new CheckpointCorruptException("checkpoint " + file + " has " + bytes.length + " bytes, its record says "
                    + record.sizeBytes() + "; resume from an older checkpoint");
        }
        String sha = CheckpointPayload.sha256Hex(bytes);
        if (!sha.equals(record.sha256())) {
            throw new CheckpointCorruptException("checkpoint " + file + " has SHA-256 " + sha + ", its record says "
                    + record.sha256() + "; resume from an older checkpoint");
        }
        return bytes;
    }

    @Override
    public List<CheckpointRecord> list(String runId) {
        Path dir = runDirectory(runId);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<CheckpointRecord> records = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String name = p.getFileName().toString();
                if (name.startsWith("step-") && name.endsWith(".json")) {
                    records.add(fromJson(readRecord(p), p));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list checkpoints in " + dir + ": " + e.getMessage(), e);
        }
        records.sort(Comparator.comparingLong(CheckpointRecord::step));
        return records;
    }

    @Override
    public synchronized void delete(CheckpointRecord record) {
        Path file = Path.of(record.location());
        String base = file.getFileName().toString().replaceFirst("\\.ckpt$", "");
        try {
            // the record goes first: a checkpoint without a record is invisible, never half-listed
            Files.deleteIfExists(file.resolveSibling(base + ".json"));
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete checkpoint " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized int rename(String runId, String newRunId) {
        Path from = runDirectory(runId);
        Path to = runDirectory(newRunId);
        List<CheckpointRecord> records = list(runId);
        try {
            if (Files.exists(to)) {
                throw new CheckpointWriteException("cannot move the checkpoints of run " + runId + " to " + to
                        + ": it exists", null);
            }
            if (!Files.isDirectory(from)) {
                return 0;
            }
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
            for (CheckpointRecord r : records) {
                String base = Path.of(r.location()).getFileName().toString().replaceFirst("\\.ckpt$", "");
                CheckpointRecord moved = new CheckpointRecord(newRunId, r.step(), r.epoch(), r.generation(),
                        r.sizeBytes(), r.sha256(), r.createdAt(), r.runSpecHash(), to.resolve(base + ".ckpt").toString());
                Path temp = to.resolve("." + base + ".json" + TEMP + ProcessHandle.current().pid());
                writeAndForce(temp, JSON.writeValueAsBytes(toJson(moved)));
                move(temp, to.resolve(base + ".json"));
            }
            return records.size();
        } catch (IOException e) {
            throw new CheckpointWriteException("cannot move the checkpoints of run " + runId + " to " + to + ": "
                    + e.getMessage(), e);
        }
    }

    private static ObjectNode toJson(CheckpointRecord r) {
        ObjectNode o = JSON.createObjectNode();
        o.put("runId", r.runId());
        o.put("step", r.step());
        o.put("epoch", r.epoch());
        o.put("generation", r.generation());
        o.put("sizeBytes", r.sizeBytes());
        o.put("sha256", r.sha256());
        o.put("createdAt", r.createdAt().toString());
        o.put("runSpecHash", r.runSpecHash());
        o.put("file", Path.of(r.location()).getFileName().toString());
        return o;
    }

    private static JsonNode readRecord(Path p) throws IOException {
        byte[] bytes = Files.readAllBytes(p);
        try {
            return JSON.readTree(bytes);
        } catch (IOException | StackOverflowError e) {
            // a parse error, or bytes Jackson takes for another encoding (CharConversionException); Jackson 2.11
            // parses nested arrays recursively, so a deep nest ends the stack, not the parser
            throw new CheckpointCorruptException("checkpoint record " + p + " is not JSON; delete it");
        }
    }

    /**
     * A record file's record. The checkpoint it names must be its own sibling {@code step-N.ckpt}: a record
     * never points the store at another file.
     */
    private static CheckpointRecord fromJson(JsonNode o, Path recordFile) {
        String ckpt = recordFile.getFileName().toString().replaceFirst("\\.json$", ".ckpt");
        if (o == null || !ckpt.equals(o.path("file").asText()) || !o.path("sha256").isTextual()
                || !o.path("createdAt").isTextual() || !o.path("runId").isTextual()
                || !o.path("runSpecHash").isTextual()) {
            throw new CheckpointCorruptException("checkpoint record " + recordFile + " is incomplete or names another"
                    + " file than " + ckpt + "; delete it");
        }
        Instant createdAt;
        try {
            createdAt = Instant.parse(o.path("createdAt").asText());
        } catch (DateTimeParseException e) {
            throw new CheckpointCorruptException("checkpoint record " + recordFile + " has createdAt "
                    + o.path("createdAt") + ", not an instant; delete it");
        }
        return new CheckpointRecord(o.path("runId").asText(), integer(o, "step", recordFile),
                (int) Math.min(Integer.MAX_VALUE, integer(o, "epoch", recordFile)), integer(o, "generation", recordFile),
                integer(o, "sizeBytes", recordFile), o.path("sha256").asText(), createdAt,
                o.path("runSpecHash").asText(), recordFile.resolveSibling(ckpt).toString());
    }

    private static long integer(JsonNode o, String field, Path recordFile) {
        JsonNode v = o.path(field);
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
            throw new CheckpointCorruptException("checkpoint record " + recordFile + " has " + field + " = " + v
                    + ", not a count; delete it");
        }
        return v.asLong();
    }

    private static void writeAndForce(Path file, byte[] bytes) throws IOException {
        Files.deleteIfExists(file);
        try (FileChannel ch = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(PrivateFiles.PRIVATE))) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void forceDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // some file systems cannot open a directory for fsync; the renames are still ordered
        }
    }
}
