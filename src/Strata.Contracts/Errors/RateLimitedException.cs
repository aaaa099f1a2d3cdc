namespace Strata.Contracts.Errors;

/// <summary>The caller exceeded its rate limit; it may retry after <see cref="RetryAfter"/>. Becomes a 429.</summary>
public sealed class RateLimitedException(string message, TimeSpan retryAfter) : Exception(message)
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}
