namespace Strata.Cli.Commands;

/// <summary>One line of the services table <c>strata up</c> prints.</summary>
internal sealed record ServiceRow(string Name, Uri Url, int Pid, string State);
