namespace Strata.Contracts.Errors;

/// <summary>The request conflicts with the current state (already exists, already running). Becomes a 409 problem.</summary>
public sealed class ResourceConflictException(string message) : Exception(message);
