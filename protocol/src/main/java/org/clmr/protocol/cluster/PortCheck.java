package org.clmr.protocol.cluster;

import org.clmr.protocol.UserError;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;

/**
 * Checks a configured TCP port before a node binds it, so that a port in use ends the start with one line
 * naming the setting, before Akka or the HTTP server starts (Akka logs a bind failure with its whole stack
 * before it reaches the caller). Another process may still take the port between the check and the bind;
 * the caller's own bind failure is then what the operator sees. Any thread.
 */
public final class PortCheck {
    private PortCheck() {
    }

    /**
     * Binds and releases {@code host:port} (nothing for port 0, which picks a free one).
     *
     * @param key  the configuration key of the port, named in the message
     * @param what what listens there, e.g. "the cluster port"
     * @throws UserError when the port cannot be bound
     */
    public static void requireFree(String host, int port, String key, String what) {
        if (port == 0) {
            return;
        }
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getByName(host), port));
        } catch (BindException e) {
            throw new UserError("cannot bind " + what + " " + host + ":" + port + " (" + e.getMessage()
                    + "): another process listens there; stop it or set " + key + " to a free port (0: any)");
        } catch (UnknownHostException e) {
            throw new UserError("cannot bind " + what + " " + host + ":" + port + ": unknown host " + host
                    + "; set the host of " + key + " to an address of this machine");
        } catch (IOException e) {
            throw new UserError("cannot bind " + what + " " + host + ":" + port + " (" + e.getMessage() + "); check "
                    + key);
        }
    }
}
