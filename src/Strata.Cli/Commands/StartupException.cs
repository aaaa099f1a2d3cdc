namespace Strata.Cli.Commands;

/// <summary>A start that cannot succeed (port in use, unwritable data dir, bad configuration): one line, exit 1.</summary>
public sealed class StartupException(string message, Exception? inner = null) : Exception(message, inner);
