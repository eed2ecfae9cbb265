package org.clmr.coordinator;

import org.clmr.protocol.UserError;
import org.clmr.protocol.security.PrivateFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The modes of a coordinator's run directory and database: the directory is 0700 (created so, or tightened with a
 * line in the log: it holds the journal, the checkpoints and the throw-away keys of a local cluster), the files of
 * its default H2 database 0600. Called once at node start, on the starting thread.
 */
final class RunFiles {
    private static final Logger LOG = LoggerFactory.getLogger(RunFiles.class);

    private RunFiles() {
    }

    /** Creates {@code runDir} 0700, or makes an existing one 0700. */
    static void privateRunDirectory(Path runDir) {
        PrivateFiles.createDirectory(runDir);
        try {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(runDir);
            if (!mode.equals(PrivateFiles.DIRECTORY)) {
                Files.setPosixFilePermissions(runDir, PrivateFiles.DIRECTORY);
                LOG.info("run directory {} was {}; now rwx------ (it holds the run's journal and checkpoints)", runDir,
                        PosixFilePermissions.toString(mode));
            }
        } catch (IOException e) {
            throw new UserError("cannot make the run directory " + runDir + " private (mode 0700): " + e.getMessage()
                    + "; the coordinator's user must own it");
        }
    }

    /** Makes the files of the default H2 database 0600 (H2 creates them with the process's umask). */
    static void privateDatabase(Path runDir, CoordinatorSettings.DatabaseSettings db) {
        if (!db.url().isEmpty()) {
            return;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(runDir, CoordinatorSettings.DatabaseSettings.H2_FILE
                + ".{mv,trace,lock}.db")) {
            for (Path f : files) {
                if (Files.isRegularFile(f)) {
                    Files.setPosixFilePermissions(f, PrivateFiles.PRIVATE);
                }
            }
        } catch (IOException e) {
            throw new UserError("cannot make the database files in " + runDir + " private (mode 0600): "
                    + e.getMessage() + "; the coordinator's user must own them");
        }
    }
}
