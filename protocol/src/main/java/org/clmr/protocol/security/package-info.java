/**
 * Who may talk to a clmr node (issue #17, DESIGN "Trust and failure in the field"): the run CA and node
 * certificates ({@link org.clmr.protocol.security.CertificateAuthority}), mutual TLS on Akka Artery
 * ({@link org.clmr.protocol.security.ArteryTls}), the control plane's bearer token
 * ({@link org.clmr.protocol.security.ControlToken}), the {@code clmr.security} settings and the secure-by-default
 * check a node runs before it binds anything ({@link org.clmr.protocol.security.NodeSecurity}), throw-away keys for
 * local clusters ({@link org.clmr.protocol.security.ThrowawayKeys}), and the redaction of secrets in rendered
 * configuration ({@link org.clmr.protocol.security.Redaction}).
 */
package org.clmr.protocol.security;
