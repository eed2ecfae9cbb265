package org.clmr.ops.keys;

import org.clmr.protocol.security.ControlToken;
import org.clmr.protocol.security.TokenSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code clmr keys token --out FILE}: a new control token, 256 random bits, in a file of mode 0600; never printed. */
@Command(name = "token", mixinStandardHelpOptions = true,
        description = {"Create the control plane's bearer token (256 random bits, base64url) in FILE (0600).",
                "The token is not printed: nodes and clients read the file (clmr.security.control-token.file)",
                "or the environment variable CLMR_CONTROL_TOKEN."})
public final class KeysTokenCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--out", paramLabel = "FILE", required = true, description = "The token's file (its directory created 0700 if missing)")
    Path out;

    @Option(names = "--force", description = "Replace a token that is there already")
    boolean force;

    @Override
    public Integer call() {
        ControlToken.generate().write(out, force);
        PrintWriter w = spec.commandLine().getOut();
        w.println("control token: " + out + " (0600); use it with --set " + TokenSource.FILE_KEY + "=" + out.toAbsolutePath());
        w.flush();
        return 0;
    }
}
