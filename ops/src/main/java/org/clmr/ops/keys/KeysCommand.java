package org.clmr.ops.keys;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code clmr keys}: the key material of a secured cluster: a run CA, node certificates for mutual TLS between
 * nodes, and the control plane's bearer token. Keys are written 0600, directories created 0700; nothing secret is
 * printed.
 */
@Command(name = "keys", mixinStandardHelpOptions = true,
        description = {"Key material of a secured cluster: a run CA (init), a certificate per node (node),",
                "the control token (token). Private keys and tokens are written 0600, directories 0700."},
        subcommands = {
                KeysInitCommand.class,
                KeysNodeCommand.class,
                KeysTokenCommand.class,
        })
public final class KeysCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
