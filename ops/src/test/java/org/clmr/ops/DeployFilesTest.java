package org.clmr.ops;

import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every deployment file in ops/k8s and ops/systemd parses, and every {@code clmr} command line in it uses
 * subcommands, options and configuration keys that exist, with every variable it references defined where
 * the process runs (container env, EnvironmentFile).
 */
class DeployFilesTest {
    private static final Path K8S = Path.of("k8s");
    private static final Path SYSTEMD = Path.of("systemd");
    private static final String CONFIG_PATH = "/etc/clmr/clmr.conf";

    /** Plausible values of the variables the files reference, for the configuration to validate. */
    private static final Map<String, String> VALUES = Map.of(
            "POD_NAME", "clmr-coordinator-0", "POD_IP", "10.1.2.3", "CLMR_HOST", "10.0.0.11",
            "CLMR_SEED_NODES", "10.0.0.10:25520", "CLMR_DATASET", "/srv/clmr/dataset",
            "CLMR_DB_URL", "jdbc:postgresql://db:5432/clmr", "CLMR_DB_USER", "clmr", "CLMR_DB_PASSWORD", "secret");

    @Test
    void shouldRunOnlyExistingCommandsOptionsAndKeysInTheKubernetesManifests() throws IOException {
        List<Map<String, Object>> docs = new ArrayList<>();
        for (Path f : files(K8S, ".yaml")) {
            for (Object doc : yaml().loadAll(Files.readString(f))) {
                Map<String, Object> d = map(doc, f.toString());
                assertTrue(d.containsKey("apiVersion") && d.containsKey("kind"), f + ": a document without apiVersion/kind");
                assertTrue(map(d.get("metadata"), f + " metadata").containsKey("name"), f + ": a document without a name");
                d.put("_file", f.toString());
                docs.add(d);
            }
        }
        Map<String, String> confs = new HashMap<>();
        docs.stream().filter(d -> d.get("kind").equals("ConfigMap")).findFirst()
                .map(d -> map(d.get("data"), "ConfigMap data"))
                .orElseThrow(() -> new AssertionError("no ConfigMap in " + K8S))
                .forEach((name, text) -> confs.put(name, (String) text));
        assertTrue(confs.containsKey("clmr.conf"), "no clmr.conf in the ConfigMap of " + K8S);
        Map<String, Set<String>> gpuPools = new HashMap<>();
        List<String> commands = new ArrayList<>();
        boolean headless = false;
        for (Map<String, Object> d : docs) {
            String where = d.get("_file") + " " + d.get("kind") + " " + map(d.get("metadata"), "").get("name");
            if (d.get("kind").equals("Service")) {
                headless |= "None".equals(map(d.get("spec"), where).get("clusterIP"));
            }
            if (!List.of("StatefulSet", "Deployment").contains(d.get("kind"))) {
                continue;
            }
            Map<String, Object> pod = map(map(map(d.get("spec"), where).get("template"), where).get("spec"), where);
            for (Object c : (List<?>) pod.get("containers")) {
                Map<String, Object> container = map(c, where);
                Map<String, String> env = new HashMap<>();
                List<String> jvm = new ArrayList<>();
                for (Object e : (List<?>) container.getOrDefault("env", List.of())) {
                    Map<String, Object> var = map(e, where);
                    String name = (String) var.get("name");
                    env.put(name, VALUES.getOrDefault(name, "x"));
                    if (name.equals("JAVA_OPTS")) {
                        jvm.addAll(Arrays.asList(((String) var.get("value")).split("\\s+")));
                    }
                }
                List<String> args = new ArrayList<>();
                for (Object a : (List<?>) container.get("args")) {
                    args.add(CommandCheck.substitute(a.toString(), env, where));
                }
                String file = args.get(args.indexOf("--config") + 1);
                String name = file.substring(file.lastIndexOf('/') + 1);
                assertTrue(file.equals("/etc/clmr/" + name) && confs.containsKey(name), where + ": --config " + file
                        + " is not a file of the ConfigMap mounted at /etc/clmr");
                Path config = CommandCheck.resolvedConfig(confs, name, env, where + " (ConfigMap " + name + ")");
                List<String> chain = CommandCheck.check(args, Map.of(file, config), jvm, where);
                commands.add(String.join(" ", chain));
                if (chain.equals(List.of("worker"))) {
                    Map<String, Object> limits = map(map(container.get("resources"), where).get("limits"), where);
                    assertEquals(1, limits.get("nvidia.com/gpu"), where + ": one GPU per worker pod");
                    assertTrue(args.contains("cuda:0"), where + ": the pod's one GPU is cuda:0");
                    Map<String, Object> selector = map(pod.get("nodeSelector"), where + " nodeSelector");
                    gpuPools.computeIfAbsent(String.valueOf(selector.get("nvidia.com/gpu.product")), k -> new HashSet<>())
                            .add(where);
                }
            }
        }
        assertTrue(commands.contains("coordinator") && commands.contains("worker"), "commands found: " + commands);
        assertTrue(headless, "a headless Service gives the coordinator a stable DNS name for seed nodes");
        assertTrue(gpuPools.size() >= 2 && gpuPools.values().stream().allMatch(s -> s.size() == 1),
                "one worker pool per GPU type: " + gpuPools);
    }

    @Test
    void shouldSecureEveryPodWithTheSharedNodeCertificateTheTokenAndANetworkPolicy() throws IOException {
        List<Map<String, Object>> docs = new ArrayList<>();
        for (Path f : files(K8S, ".yaml")) {
            for (Object doc : yaml().loadAll(Files.readString(f))) {
                docs.add(map(doc, f.toString()));
            }
        }
        Map<String, Object> node = docs.stream().filter(d -> d.get("kind").equals("Certificate")
                && "clmr-node".equals(map(d.get("spec"), "Certificate").get("commonName"))).findFirst()
                .orElseThrow(() -> new AssertionError("no cert-manager Certificate with commonName clmr-node in " + K8S));
        Map<String, Object> nodeSpec = map(node.get("spec"), "Certificate clmr-node");
        assertEquals("RSA", map(nodeSpec.get("privateKey"), "privateKey").get("algorithm"), "Akka 2.6 reads RSA keys");
        String tlsSecret = (String) nodeSpec.get("secretName");
        Set<String> tokenSecrets = new HashSet<>();
        docs.stream().filter(d -> d.get("kind").equals("Secret"))
                .forEach(d -> tokenSecrets.add((String) map(d.get("metadata"), "Secret").get("name")));
        String conf = docs.stream().filter(d -> d.get("kind").equals("ConfigMap")).findFirst()
                .map(d -> (String) map(d.get("data"), "ConfigMap data").get("clmr.conf")).orElseThrow();
        com.typesafe.config.Config c = com.typesafe.config.ConfigFactory.parseString(conf);
        String keyDir = c.getString("clmr.security.tls.key-dir");
        String tokenDir = Path.of(c.getString("clmr.security.control-token.file")).getParent().toString();
        int pods = 0;
        for (Map<String, Object> d : docs) {
            if (!List.of("StatefulSet", "Deployment").contains(d.get("kind"))) {
                continue;
            }
            String where = d.get("kind") + " " + map(d.get("metadata"), "").get("name");
            Map<String, Object> pod = map(map(map(d.get("spec"), where).get("template"), where).get("spec"), where);
            Map<String, String> secretOfVolume = new HashMap<>();
            for (Object v : (List<?>) pod.get("volumes")) {
                Map<String, Object> volume = map(v, where);
                if (volume.containsKey("secret")) {
                    secretOfVolume.put((String) volume.get("name"), (String) map(volume.get("secret"), where).get("secretName"));
                }
            }
            for (Object ct : (List<?>) pod.get("containers")) {
                Map<String, String> mounted = new HashMap<>();
                for (Object m : (List<?>) map(ct, where).get("volumeMounts")) {
                    Map<String, Object> mount = map(m, where);
                    mounted.put((String) mount.get("mountPath"), secretOfVolume.get((String) mount.get("name")));
                }
                assertEquals(tlsSecret, mounted.get(keyDir), where + ": the node certificate's Secret at " + keyDir);
                assertTrue(tokenSecrets.contains(mounted.get(tokenDir)), where + ": the token's Secret at " + tokenDir);
                pods++;
            }
        }
        assertTrue(pods >= 3, "pods checked: " + pods);
        Map<String, Object> policy = docs.stream().filter(d -> d.get("kind").equals("NetworkPolicy")).findFirst()
                .map(d -> map(d.get("spec"), "NetworkPolicy")).orElseThrow(() -> new AssertionError("no NetworkPolicy"));
        Object selected = policy.get("podSelector");
        List<?> ingress = (List<?>) policy.get("ingress");
        assertEquals(1, ingress.size(), "one ingress rule: from the cluster's own pods");
        List<?> from = (List<?>) map(ingress.get(0), "ingress").get("from");
        assertEquals(List.of(Map.of("podSelector", selected)), from, "the pods admitted are the pods it protects");
    }

    @Test
    void shouldGiveEverySystemdNodeItsKeyMaterialAndToken() throws IOException {
        com.typesafe.config.Config c = com.typesafe.config.ConfigFactory.parseString(
                Files.readString(SYSTEMD.resolve("clmr.conf")).replace("${?CLMR_DB_PASSWORD}", "\"\""));
        assertTrue(c.getString("clmr.security.tls.key-dir").startsWith("/etc/clmr/"), "key-dir");
        assertTrue(c.getString("clmr.security.control-token.file").startsWith("/etc/clmr/"), "control-token.file");
        assertTrue(c.getBoolean("clmr.coordinator.http.tls") && c.getBoolean("clmr.worker.metrics.tls"), "HTTPS");
        for (Path unit : files(SYSTEMD, ".service")) {
            assertEquals("0077", section(unit, "Service").get("UMask"), unit + ": files private to the service");
        }
    }

    @Test
    void shouldRunOnlyExistingCommandsOptionsAndKeysInTheSystemdUnits() throws IOException {
        Map<String, String> env = new LinkedHashMap<>();
        List<String> jvm = new ArrayList<>();
        for (String line : Files.readAllLines(SYSTEMD.resolve("clmr.env"))) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            assertTrue(eq > 0, "clmr.env: not KEY=VALUE: " + line);
            env.put(line.substring(0, eq), line.substring(eq + 1));
            if (line.startsWith("CLMR_JAVA_OPTS=")) {
                jvm.addAll(Arrays.asList(line.substring(eq + 1).split("\\s+")));
            }
        }
        Map<String, String> values = new HashMap<>(env);
        values.put("CLMR_DB_PASSWORD", "secret");
        Path config = CommandCheck.resolvedConfig(Files.readString(SYSTEMD.resolve("clmr.conf")), values,
                "systemd/clmr.conf");
        List<String> commands = new ArrayList<>();
        for (Path unit : files(SYSTEMD, ".service")) {
            Map<String, String> service = section(unit, "Service");
            assertEquals("/etc/clmr/clmr.env", service.get("EnvironmentFile"), unit + ": EnvironmentFile");
            assertEquals("on-failure", service.get("Restart"), unit + ": a drained or finished worker (exit 0) stays"
                    + " stopped, a failed one is restarted");
            assertTrue(section(unit, "Install").containsKey("WantedBy"), unit + ": [Install] WantedBy");
            String exec = service.get("ExecStart");
            List<String> words = new ArrayList<>(Arrays.asList(exec.split("\\s+")));
            assertEquals("/opt/clmr/clmr", words.remove(0), unit + ": ExecStart runs the launcher");
            List<String> args = new ArrayList<>();
            for (String w : words) {
                args.add(CommandCheck.substitute(w.replace("%i", "cuda:0"), values, unit.toString()));
            }
            commands.add(String.join(" ", CommandCheck.check(args, Map.of(CONFIG_PATH, config), jvm, unit.toString())));
        }
        assertEquals(List.of("coordinator", "worker"), commands.stream().sorted().toList());
    }

    private static Map<String, String> section(Path unit, String name) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        String current = null;
        for (String line : Files.readAllLines(unit)) {
            String l = line.trim();
            if (l.startsWith("[")) {
                current = l.substring(1, l.length() - 1);
            } else if (name.equals(current) && !l.isEmpty() && !l.startsWith("#")) {
                int eq = l.indexOf('=');
                assertTrue(eq > 0, unit + ": not Key=Value in [" + name + "]: " + l);
                out.put(l.substring(0, eq), l.substring(eq + 1));
            }
        }
        assertFalse(out.isEmpty(), unit + ": no [" + name + "] section");
        return out;
    }

    private static List<Path> files(Path dir, String suffix) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> out = s.filter(p -> p.toString().endsWith(suffix)).sorted().toList();
            assertFalse(out.isEmpty(), "no *" + suffix + " in " + dir.toAbsolutePath());
            return out;
        }
    }

    private static Yaml yaml() {
        return new Yaml(new SafeConstructor(new LoaderOptions()));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o, String where) {
        assertTrue(o instanceof Map, where + ": expected a mapping, got " + o);
        return (Map<String, Object>) o;
    }
}
