package org.clmr.ops.cluster;

import org.clmr.protocol.security.ThrowawayKeys;

import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The real-process cluster tests' keys: throw-away keys in the run directory, as {@code clmr train --workers} makes
 * them, so that every test cluster runs secure (Artery on mutual TLS, the control token on every operator request).
 */
final class ClusterKeys {
    private final ThrowawayKeys keys;

    private ClusterKeys(ThrowawayKeys keys) {
        this.keys = keys;
    }

    /** The keys of {@code runDir} (made there when missing). */
    static ClusterKeys in(Path runDir) {
        return new ClusterKeys(ThrowawayKeys.inRunDir(runDir));
    }

    /** {@code --set} arguments that point a clmr process at the keys. */
    List<String> args() {
        List<String> out = new ArrayList<>();
        keys.settingOverrides().forEach(o -> out.addAll(List.of("--set", o)));
        return out;
    }

    /** A request to {@code url} with the control token. */
    HttpRequest.Builder request(String url) {
        return HttpRequest.newBuilder(URI.create(url)).header("Authorization", keys.token().authorization());
    }

    /** The control token's value (to look for in logs). */
    String token() {
        return keys.token().authorization().substring("Bearer ".length());
    }

    /** The keys themselves. */
    ThrowawayKeys keys() {
        return keys;
    }
}
