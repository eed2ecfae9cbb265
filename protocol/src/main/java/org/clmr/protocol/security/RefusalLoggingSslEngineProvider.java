package org.clmr.protocol.security;

import akka.actor.ActorSystem;
import akka.actor.ExtendedActorSystem;
import akka.remote.artery.tcp.SSLEngineProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Option;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Artery {@link SSLEngineProvider} of a clmr node ({@link ArteryTls} names it): Akka's own provider (named by
 * {@value #DELEGATE_KEY}) does the work, and this one logs the TLS connections to this node that it refused, which
 * Akka does not log at all. The first refusal is logged at once, later ones at most once a minute with their count,
 * so that a node knocking without a certificate of the run CA (or without TLS) is seen without flooding the log.
 * Made by Akka once per node (reflection, {@code (ActorSystem)}); thread-safe.
 */
public final class RefusalLoggingSslEngineProvider implements SSLEngineProvider {
    /** The setting that names Akka's provider this one delegates to. */
    public static final String DELEGATE_KEY = "akka.remote.artery.ssl.clmr-delegate";
    private static final Logger LOG = LoggerFactory.getLogger(RefusalLoggingSslEngineProvider.class);
    private static final long LOG_EVERY_NS = TimeUnit.MINUTES.toNanos(1);

    private final SSLEngineProvider delegate;
    private final AtomicLong unlogged = new AtomicLong();
    private final AtomicLong lastLogNs = new AtomicLong(System.nanoTime() - LOG_EVERY_NS);

    /**
     * The provider of {@code system}, as Akka makes it.
     *
     * @throws IllegalStateException when Akka's provider named by {@value #DELEGATE_KEY} cannot be made
     */
    public RefusalLoggingSslEngineProvider(ActorSystem system) {
        String name = system.settings().config().getString(DELEGATE_KEY);
        try {
            ClassLoader loader = ((ExtendedActorSystem) system).dynamicAccess().classLoader();
            this.delegate = (SSLEngineProvider) Class.forName(name, true, loader).getConstructor(ActorSystem.class)
                    .newInstance(system);
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new IllegalStateException("cannot make Akka's TLS engine provider " + name + ": " + e, e);
        }
    }

    @Override
    public SSLEngine createServerSSLEngine(String hostname, int port) {
        return new ObservedSslEngine(delegate.createServerSSLEngine(hostname, port), this::refused);
    }

    @Override
    public SSLEngine createClientSSLEngine(String hostname, int port) {
        return delegate.createClientSSLEngine(hostname, port);
    }

    @Override
    public Option<Throwable> verifyClientSession(String hostname, SSLSession session) {
        return delegate.verifyClientSession(hostname, session);
    }

    @Override
    public Option<Throwable> verifyServerSession(String hostname, SSLSession session) {
        return delegate.verifyServerSession(hostname, session);
    }

    private void refused(SSLException e) {
        long n = unlogged.incrementAndGet();
        long now = System.nanoTime();
        long last = lastLogNs.get();
        if (now - last >= LOG_EVERY_NS && lastLogNs.compareAndSet(last, now)) {
            unlogged.addAndGet(-n);
            LOG.warn("refused {} TLS connection(s) to this node's cluster port in the last minute, the latest: {} (a node"
                    + " without a certificate of the run CA, or without TLS; it cannot join)", n,
                    oneLine(e));
        }
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.replaceAll("[\\r\\n]+", " ");
    }
}
