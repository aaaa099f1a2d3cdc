using System.ComponentModel.DataAnnotations;

namespace Strata.Features;

/// <summary>Feature store settings (<c>Strata:Features:*</c>).</summary>
public sealed class FeatureStoreOptions
{
    public const string Section = "Strata:Features";

    /// <summary><c>embedded</c> (in process, persisted under the data directory) or <c>redis</c>.</summary>
    [Required, RegularExpression("^(embedded|redis)$")]
    public string OnlineStore { get; set; } = "embedded";

    /// <summary>StackExchange.Redis configuration string (e.g. <c>127.0.0.1:6379</c>) when <see cref="OnlineStore"/> is redis.</summary>
    public string? Redis { get; set; }

    /// <summary>Prefix of every Redis key this store writes, so several stores can share one server.</summary>
    [Required]
    public string RedisKeyPrefix { get; set; } = "strata:";

    /// <summary>Historical results larger than this must be written as a dataset version.</summary>
    [Range(1, 10_000_000)]
    public int MaxInlineRows { get; set; } = 100_000;

    /// <summary>How far past the server's clock a row's <c>event_timestamp</c> may be. A row dated far ahead would be the
    /// entity's latest value until then, hiding every real update pushed meanwhile; such rows are refused (400).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00")]
    public TimeSpan MaxFutureSkew { get; set; } = TimeSpan.FromDays(1);
}
