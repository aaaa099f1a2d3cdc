using System.Globalization;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Strata.Contracts.Errors;

namespace Strata.Contracts.Registry;

/// <summary>A model's traffic policy: which version answers a request that names the model but no version. Header
/// <see cref="Rules"/> are tried in order (the first that matches takes the request); otherwise the <see cref="Split"/>
/// weighs the arms (none: the served default alias takes everything). With <see cref="Sticky"/> an arm is chosen by
/// hashing a key of the request, so one user stays on one arm while the weights stay; without it, at random. The
/// <see cref="Shadow"/> version gets a copy of the requests it is mirrored; its answers are recorded, never returned.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record TrafficPolicy
{
    public const int MaxRules = 32;
    public const int MaxArms = 16;

    public IReadOnlyList<TrafficRule>? Rules { get; init; }

    public IReadOnlyList<TrafficArm>? Split { get; init; }

    public StickyAssignment? Sticky { get; init; }

    public ShadowTarget? Shadow { get; init; }

    /// <summary>Every version or alias the policy sends requests to (rules, arms, shadow), each once.</summary>
    public IReadOnlyList<TrafficTarget> Targets() =>
        [.. (Rules ?? []).Select(r => r.Target!).Concat((Split ?? []).Select(a => a.Target!)).Concat(Shadow?.Target is { } s ? [s] : []).Distinct()];

    /// <summary>Checks the policy's shape (not that its versions exist); throws naming the field and the reason.</summary>
    public void Validate()
    {
        if (Rules is { Count: > MaxRules })
        {
            throw new InputValidationException("rules", $"has {Rules.Count} rules; at most {MaxRules}");
        }
        for (var i = 0; i < (Rules?.Count ?? 0); i++)
        {
            var rule = Rules![i] ?? throw new InputValidationException($"rules[{i}]", "must be an object");
            rule.Validate($"rules[{i}]");
        }
        if (Split is { Count: > MaxArms })
        {
            throw new InputValidationException("split", $"has {Split.Count} arms; at most {MaxArms}");
        }
        var total = 0L;
        for (var i = 0; i < (Split?.Count ?? 0); i++)
        {
            var arm = Split![i] ?? throw new InputValidationException($"split[{i}]", "must be an object");
            TrafficTarget.Validate(arm.Target, $"split[{i}].target");
            if (arm.Weight is not (>= 0 and <= 10_000))
            {
                throw new InputValidationException($"split[{i}].weight", "must be an integer from 0 to 10000 (weights are relative: 90 and 10 send 90% and 10%)");
            }
            if (Split.Take(i).Any(a => a?.Target == arm.Target))
            {
                throw new InputValidationException($"split[{i}].target", $"{arm.Target} is already an arm of the split");
            }
            total += arm.Weight.Value;
        }
        if (Split is { Count: > 0 } && total == 0)
        {
            throw new InputValidationException("split", "the weights add up to 0: at least one arm must have a positive weight");
        }
        Sticky?.Validate();
        if (Sticky is not null && Split is not { Count: > 0 })
        {
            throw new InputValidationException("sticky", "sticky assignment chooses among the arms of a split: the policy has none");
        }
        if (Shadow is not null)
        {
            TrafficTarget.Validate(Shadow.Target, "shadow.target");
            if (!(Shadow.Percent is > 0 and <= 100))
            {
                throw new InputValidationException("shadow.percent", "must be above 0 and at most 100");
            }
        }
    }

    /// <summary>A line a person reads: <c>x-user-group=beta → challenger; champion 90 / v4 10 by user_id; shadow v5 (100%)</c>.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        parts.AddRange((Rules ?? []).Select(r => $"{r} → {r.Target}"));
        if (Split is { Count: > 0 })
        {
            parts.Add(string.Join(" / ", Split.Select(a => string.Create(CultureInfo.InvariantCulture, $"{a.Target} {a.Weight}")))
                + (Sticky is null ? "" : $" by {Sticky}"));
        }
        if (Shadow is not null)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"shadow {Shadow.Target} ({Shadow.Percent:0.##}%)"));
        }
        return parts.Count == 0 ? "(default alias only)" : string.Join("; ", parts);
    }
}

/// <summary>A version by number or an alias (exactly one).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record TrafficTarget
{
    public int? Version { get; init; }

    public string? Alias { get; init; }

    public static TrafficTarget OfVersion(int version) => new() { Version = version };

    public static TrafficTarget OfAlias(string alias) => new() { Alias = alias };

    public static void Validate(TrafficTarget? target, string field)
    {
        if (target is null || (target.Version is null) == (target.Alias is null))
        {
            throw new InputValidationException(field, "must name exactly one of version (a number) or alias");
        }
        if (target.Version is < 1)
        {
            throw new InputValidationException(field + ".version", "must be a positive version number");
        }
        if (target.Alias is not null)
        {
            AliasName.Validate(target.Alias, field + ".alias");
        }
    }

    /// <summary>Parses <c>v4</c>, <c>4</c> or an alias name (the CLI's form).</summary>
    public static TrafficTarget Parse(string text, string field)
    {
        ArgumentNullException.ThrowIfNull(text);
        var digits = text.StartsWith('v') || text.StartsWith('V') ? text[1..] : text;
        return int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? OfVersion(n)
            : AliasName.IsWellFormed(text) ? OfAlias(text)
            : throw new InputValidationException(field, $"'{text}' is neither a version (4, v4) nor an alias");
    }

    public override string ToString() => Alias ?? string.Create(CultureInfo.InvariantCulture, $"v{Version}");
}

/// <summary>Sends requests whose <see cref="Header"/> matches to <see cref="Target"/>: <see cref="Exact"/> value,
/// value starting with <see cref="Prefix"/>, or (<see cref="Present"/> true) any value. Header names are case-insensitive,
/// values are not.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed partial record TrafficRule
{
    public string? Header { get; init; }

    public string? Exact { get; init; }

    public string? Prefix { get; init; }

    public bool? Present { get; init; }

    public TrafficTarget? Target { get; init; }

    public void Validate(string field)
    {
        ValidateHeaderName(Header, field + ".header");
        var matches = (Exact is null ? 0 : 1) + (Prefix is null ? 0 : 1) + (Present is null ? 0 : 1);
        if (matches != 1)
        {
            throw new InputValidationException(field, "must have exactly one of exact, prefix or present");
        }
        if (Present is false)
        {
            throw new InputValidationException(field + ".present", "must be true (a rule matches requests that carry the header)");
        }
        if ((Exact ?? Prefix) is { } value && (value.Length > 1024 || value.Any(char.IsControl)))
        {
            throw new InputValidationException(field + (Exact is null ? ".prefix" : ".exact"), "must be at most 1024 characters, none of them control characters");
        }
        if (Prefix is "")
        {
            throw new InputValidationException(field + ".prefix", "is empty: use \"present\": true to match any value");
        }
        TrafficTarget.Validate(Target, field + ".target");
    }

    /// <summary>Throws unless <paramref name="header"/> is an HTTP header name (RFC 9110's token).</summary>
    public static void ValidateHeaderName(string? header, string field)
    {
        if (header is null || !HeaderName().IsMatch(header))
        {
            throw new InputValidationException(field, "must be an HTTP header name (letters, digits and !#$%&'*+-.^_`|~, at most 128)");
        }
    }

    public bool Matches(string? value) =>
        value is not null && (Present == true || (Exact is not null ? string.Equals(value, Exact, StringComparison.Ordinal) : value.StartsWith(Prefix!, StringComparison.Ordinal)));

    public override string ToString() => Exact is not null ? $"{Header}={Exact}" : Prefix is not null ? $"{Header}={Prefix}*" : $"{Header} present";

    [GeneratedRegex(@"^[A-Za-z0-9!#$%&'*+\-.^_`|~]{1,128}$")]
    private static partial Regex HeaderName();
}

/// <summary>One arm of a split and its relative weight.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record TrafficArm
{
    public TrafficTarget? Target { get; init; }

    public int? Weight { get; init; }
}

/// <summary>What keeps a user on one arm: a request field (an entity key such as <c>user_id</c>, at the top level of a
/// <c>/predict</c> body, in the first KServe V1 instance, or the first element of the Open Inference input so named) or a header.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record StickyAssignment
{
    public string? Key { get; init; }

    public string? Header { get; init; }

    public void Validate()
    {
        if ((Key is null) == (Header is null))
        {
            throw new InputValidationException("sticky", "must name exactly one of key (a request field) or header");
        }
        if (Key is not null && (Key.Length is 0 or > 128 || Key.Any(char.IsControl)))
        {
            throw new InputValidationException("sticky.key", "must be 1 to 128 characters, none of them control characters");
        }
        if (Header is not null)
        {
            TrafficRule.ValidateHeaderName(Header, "sticky.header");
        }
    }

    public override string ToString() => Key ?? $"header {Header}";
}

/// <summary>Where a copy of the requests goes (<see cref="Percent"/> of them, all by default).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ShadowTarget
{
    public TrafficTarget? Target { get; init; }

    public double Percent { get; init; } = 100;
}

/// <summary>A stored version of a model's traffic policy (<c>GET /api/registry/models/{model}/traffic</c>): a null
/// <see cref="Policy"/> means it was cleared (the default alias takes every request).</summary>
public sealed record TrafficPolicyVersion(string Model, int Version, DateTimeOffset CreatedAt, TrafficPolicy? Policy);
