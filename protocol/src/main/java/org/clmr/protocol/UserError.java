package org.clmr.protocol;

/**
 * A failure the user can fix (a bad path, a missing tool, a dataset that does not match). Its message
 * is one line: what, where, expected vs actual, how to fix it. The CLI prints it and exits with 1.
 */
public class UserError extends RuntimeException {
    public UserError(String message) {
        super(message);
    }

    public UserError(String message, Throwable cause) {
        super(message, cause);
    }
}
