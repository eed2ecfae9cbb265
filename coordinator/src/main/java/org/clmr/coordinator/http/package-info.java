/**
 * The coordinator node's HTTP endpoint: {@code /status}, {@code /metrics} and the operators' {@code /control/*}
 * commands, which it asks of the coordinator as protocol messages. Depends on the protocol only.
 */
package org.clmr.coordinator.http;
