"""The shared language of jianfu: envelope, event and command schemas, the JetStream event
store, stream provisioning, the organisation directory, the policy file, settings and logging.

Import the submodule you need (``jianfu.events.envelope``, ``jianfu.events.store`` ...); this
package imports nothing on its own so that domain code can use the schemas without pulling in
the broker client.
"""
