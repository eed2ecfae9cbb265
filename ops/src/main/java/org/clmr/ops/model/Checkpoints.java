package org.clmr.ops.model;

import org.clmr.protocol.UserError;
import org.clmr.protocol.checkpoint.CheckpointCorruptException;
import org.clmr.protocol.checkpoint.CheckpointPayload;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reading a checkpoint file named on the command line, with one-line errors. */
final class Checkpoints {
    private Checkpoints() {
    }

    static CheckpointPayload readFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new UserError("checkpoint " + file + " is not a file; give a step-*.ckpt file of a run directory's checkpoints/");
        }
        try {
            return CheckpointPayload.decode(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UserError("cannot read checkpoint " + file + ": " + e.getMessage());
        } catch (CheckpointCorruptException e) {
            throw new UserError("checkpoint " + file + " is refused: " + e.getMessage());
        }
    }
}
