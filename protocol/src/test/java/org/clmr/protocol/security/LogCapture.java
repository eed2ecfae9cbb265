package org.clmr.protocol.security;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/** Every log event of this JVM while open (root logger), as text with its exceptions' messages. */
final class LogCapture implements AutoCloseable {
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    LogCapture() {
        appender.setContext(root.getLoggerContext());
        appender.start();
        root.addAppender(appender);
    }

    /** Each event as one text: logger, formatted message, MDC, and every cause's class and message. */
    List<String> lines() {
        List<String> out = new ArrayList<>();
        synchronized (appender) {
            for (ILoggingEvent e : appender.list) {
                StringBuilder b = new StringBuilder(e.getLoggerName()).append(' ').append(e.getFormattedMessage())
                        .append(' ').append(e.getMDCPropertyMap());
                for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
                    b.append(" | ").append(t.getClassName()).append(": ").append(t.getMessage());
                }
                out.add(b.toString());
            }
        }
        return out;
    }

    @Override
    public void close() {
        root.detachAppender(appender);
        appender.stop();
    }
}
