package meltemi.peers.dubbo;

import java.io.Serializable;
import java.util.Date;
import java.util.List;
import java.util.Map;

/** A bean with fields of many hessian2 types, so that the request body holds class definitions and refs. */
public class Payload implements Serializable {
    private static final long serialVersionUID = 1L;

    public enum Color { RED, GREEN }

    public String name;
    public int count;
    public long big;
    public double ratio;
    public float small;
    public short tiny;
    public byte octet;
    public char letter;
    public boolean flag;
    public Date when;
    public byte[] blob;
    public int[] ints;
    public String[] names;
    public List<String> tags;
    public Map<String, Integer> scores;
    public Color color;
    public Payload next;
    public Object any;
}
