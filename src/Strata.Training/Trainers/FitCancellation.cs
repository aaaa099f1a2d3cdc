using System.Reflection;
using Microsoft.ML;

namespace Strata.Training.Trainers;

/// <summary>Stops an ML.NET fit when a token is cancelled. ML.NET's trainers check their host between iterations (a
/// tree, a boosting round, an optimiser step) and throw <see cref="OperationCanceledException"/> once the context is
/// cancelled, but <c>MLContext.CancelExecution()</c> is internal to ML.NET 5.0; it is called here by reflection, checked
/// when this type is first used (<see cref="Supported"/>) and by the tests, so a version of ML.NET without it shows up
/// at once. Without it a fit runs to its end and the job stops at its next stage.</summary>
internal static class FitCancellation
{
    private static readonly MethodInfo? Cancel = typeof(MLContext).GetMethod("CancelExecution", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public,
        binder: null, types: Type.EmptyTypes, modifiers: null);

    public static bool Supported => Cancel is not null;

    private static bool IsCancellation(Exception e) =>
        e is OperationCanceledException || (e is AggregateException a && a.Flatten().InnerExceptions.All(i => i is OperationCanceledException));

    /// <summary>Cancels <paramref name="ml"/> (every fit and transform on it, for good) when <paramref name="cancellationToken"/> is.</summary>
    public static CancellationTokenRegistration Link(MLContext ml, CancellationToken cancellationToken) =>
        Cancel is { } cancel ? cancellationToken.Register(() => cancel.Invoke(ml, null)) : default;

    /// <summary>Runs <paramref name="fit"/> with <paramref name="ml"/> linked to the token; an interrupted fit surfaces as
    /// the token's cancellation.</summary>
    public static T Run<T>(MLContext ml, Func<T> fit, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var link = Link(ml, cancellationToken);
        try
        {
            return fit();
        }
        catch (Exception e) when (cancellationToken.IsCancellationRequested && IsCancellation(e))
        {
            // FastTree's parallel tree learner reports it as an AggregateException around the OperationCanceledException.
            throw new OperationCanceledException("the training was cancelled during the fit", e, cancellationToken);
        }
    }
}
