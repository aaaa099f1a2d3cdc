using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Strata.ServiceDefaults.Security;

namespace Strata.Security.Limits;

/// <summary>The per-principal token buckets: one partition per (route group, principal), created on a principal's first
/// request to the group, none for a group without a configured rate. The principal is the key id, else the name (JWT
/// subject); Strata's own service calls are not limited.</summary>
public static class PrincipalRateLimiter
{
    public static PartitionedRateLimiter<HttpContext> Create(LimitsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var (group, rate) in options.Rates)
        {
            if (!RouteGroups.All.Contains(group))
            {
                throw new OptionsValidationException(LimitsOptions.Section, typeof(LimitsOptions),
                    [$"Strata:Limits:Rates:{group}: not a route group (one of {string.Join(", ", RouteGroups.All)})"]);
            }
            if (!(rate.PerSecond > 0) || rate.Burst < 1)
            {
                throw new OptionsValidationException(LimitsOptions.Section, typeof(LimitsOptions),
                    [$"Strata:Limits:Rates:{group}: PerSecond must be positive and Burst at least 1"]);
            }
        }
        var rates = new Dictionary<string, LimitsOptions.RateLimit>(options.Rates, StringComparer.Ordinal);
        return PartitionedRateLimiter.Create<HttpContext, (string Group, string Principal)>(context =>
        {
            var rule = context.GetEndpoint()?.Metadata.GetMetadata<AccessRule>();
            var group = rule is null || rule.IsAnonymous ? null : RouteGroups.Of(rule.Required);
            if (group is null || !rates.TryGetValue(group, out var rate) || context.User.FindFirst(StrataClaims.Kind)?.Value == "service")
            {
                return RateLimitPartition.GetNoLimiter((string.Empty, string.Empty));
            }
            var principal = context.User.FindFirst(StrataClaims.KeyId)?.Value ?? context.User.Identity?.Name ?? "anonymous";
            return RateLimitPartition.GetTokenBucketLimiter((group, principal), _ => Bucket(rate));
        });
    }

    private static TokenBucketRateLimiterOptions Bucket(LimitsOptions.RateLimit rate)
    {
        // Tokens are added every 1/PerSecond seconds (at most every 10 ms, then several at once), so Retry-After is exact.
        var period = TimeSpan.FromSeconds(Math.Max(0.01, 1 / rate.PerSecond));
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = rate.Burst,
            TokensPerPeriod = Math.Max(1, (int)Math.Round(rate.PerSecond * period.TotalSeconds)),
            ReplenishmentPeriod = period,
            QueueLimit = 0,
            AutoReplenishment = true,
        };
    }
}
