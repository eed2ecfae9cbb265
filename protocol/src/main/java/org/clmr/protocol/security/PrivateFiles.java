package org.clmr.protocol.security;

import org.clmr.protocol.UserError;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;

/**
 * Files that hold key material: directories created 0700, private keys and tokens written 0600, certificates 0644,
 * each written to a temporary file with its final mode from the start (never readable by others, even for a
 * moment) and then moved into place. POSIX file systems only (clmr runs on Linux). Stateless; any thread.
 */
public final class PrivateFiles {
    /** rwx------ */
    public static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");
    /** rw------- */
    public static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rw-------");
    /** rw-r--r-- */
    public static final Set<PosixFilePermission> PUBLIC = PosixFilePermissions.fromString("rw-r--r--");

    private PrivateFiles() {
    }

    /**
     * Creates the directory and any missing parents with mode 0700. A directory that exists already keeps its
     * mode (it may be shared on purpose): the files written into it carry their own.
     */
    public static void createDirectory(Path dir) {
        Path abs = dir.toAbsolutePath();
        if (Files.isDirectory(abs)) {
            return;
        }
        if (abs.getParent() != null) {
            createDirectory(abs.getParent());
        }
        try {
            Files.createDirectory(abs, PosixFilePermissions.asFileAttribute(DIRECTORY));
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(abs)) {
                throw new UserError(abs + " exists and is not a directory: give another path");
            }
        } catch (IOException e) {
            throw new UserError("cannot create the directory " + abs + ": " + e + "; check the path and its parent's permissions");
        }
    }

    /**
     * Makes a directory that someone else created (Aeron's media driver, with the process's umask) 0700: only this
     * user may list or open what is in it.
     */
    public static void restrictDirectory(Path dir) {
        try {
            Files.setPosixFilePermissions(dir, DIRECTORY);
        } catch (IOException e) {
            throw new UserError("cannot make " + dir + " private (mode 0700): " + e + "; this process must own it");
        }
    }

    /** Writes a private key or a token: mode 0600. */
    public static void writePrivate(Path file, byte[] content) {
        write(file, content, PRIVATE);
    }

    /** Writes a certificate: mode 0644 (the directory around it decides who may list it). */
    public static void writePublic(Path file, byte[] content) {
        write(file, content, PUBLIC);
    }

    /**
     * Refuses to go on when any of the files exists and {@code force} is off: one line naming the first file,
     * what replacing it means, and the option that allows it.
     */
    public static void refuseExisting(List<Path> files, boolean force, String consequence) {
        if (force) {
            return;
        }
        for (Path f : files) {
            if (Files.exists(f)) {
                throw new UserError(f + " exists; give --force to replace it (" + consequence + ")");
            }
        }
    }

    private static void write(Path file, byte[] content, Set<PosixFilePermission> mode) {
        Path abs = file.toAbsolutePath();
        createDirectory(abs.getParent());
        FileAttribute<Set<PosixFilePermission>> attr = PosixFilePermissions.asFileAttribute(mode);
        Path tmp = null;
        try {
            tmp = Files.createTempFile(abs.getParent(), "." + abs.getFileName(), ".tmp", attr);
            Files.write(tmp, content);
            // the umask may have taken bits from a public file's mode at creation; set exactly what was asked
            Files.setPosixFilePermissions(tmp, mode);
            move(tmp, abs);
        } catch (IOException e) {
            throw new UserError("cannot write " + abs + ": " + e + "; check that its directory is writable");
        } finally {
            deleteQuietly(tmp);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void deleteQuietly(Path tmp) {
        if (tmp == null) {
            return;
        }
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException e) {
            // the temporary file is 0600 or 0644 like its target and named after it: left behind, it leaks nothing
        }
    }
}
