namespace Gateway.Detection;

/// <summary>Optimal string alignment distance, only as far as "at most one edit" needs.</summary>
public static class EditDistance
{
    /// <summary>
    /// True when the strings differ by exactly one edit: a character added, dropped or changed, or two neighbours
    /// swapped (Damerau). Linear time: no distance matrix is needed to decide "one".
    /// </summary>
    public static bool IsOneEdit(string a, string b)
    {
        if (a == b || Math.Abs(a.Length - b.Length) > 1)
            return false;
        var i = 0;
        while (i < a.Length && i < b.Length && a[i] == b[i])
            i++;
        if (a.Length == b.Length)
        {
            // A change at i, or a swap of i and i+1; the rest must be equal.
            if (a.AsSpan(i + 1).SequenceEqual(b.AsSpan(i + 1)))
                return true;
            return i + 1 < a.Length && a[i] == b[i + 1] && a[i + 1] == b[i] && a.AsSpan(i + 2).SequenceEqual(b.AsSpan(i + 2));
        }
        var (longer, shorter) = a.Length > b.Length ? (a, b) : (b, a);
        return longer.AsSpan(i + 1).SequenceEqual(shorter.AsSpan(i));
    }
}
